import { type Command, Option } from 'commander';
import { renderDiffJson, renderDiffJunit, renderDiffText } from '../../../reporters/diff.js';
import { packageVersion } from '../../core/assets.js';
import { compareRuns, loadReport } from '../../core/baseline.js';
import { writeReport } from '../output.js';
import type { CommandContext } from '../run-command.js';

export function register(program: Command, ctx: CommandContext): void {
  program.command('diff')
    .description('what changed between two JSON reports: new, worse, fixed, still failing; hosts added and removed')
    .argument('<old>', 'the earlier JSON report (e.g. the baseline)')
    .argument('<new>', 'the later JSON report')
    .addOption(new Option('-o, --output <format>', 'what to print on stdout').choices(['text', 'json', 'junit']).default('text'))
    .option('--json <file>', 'write the comparison as JSON to FILE')
    .option('--junit <file>', 'write the comparison as JUnit XML to FILE (new/worse fail, known are skipped)')
    .action((oldFile: string, newFile: string, options: { output: string; json?: string; junit?: string }) => {
      const before = loadReport(oldFile, 'diff');
      const after = loadReport(newFile, 'diff');
      const cmp = compareRuns(before, after, oldFile);
      const json = renderDiffJson(cmp, { old: oldFile, new: newFile }, packageVersion());
      if (options.json) writeReport('--json', options.json, json);
      if (options.junit) writeReport('--junit', options.junit, renderDiffJunit(cmp));
      process.stdout.write(options.output === 'json' ? json : options.output === 'junit' ? renderDiffJunit(cmp) : renderDiffText(cmp, `kubecheck diff ${oldFile} → ${newFile}`));
      ctx.setCode(cmp.regressed ? 1 : 0);
    });
}
