// `kubecheck list` and `kubecheck explain`: the check catalogue, its codes and the doctor causes that read them.
import { type Command, Option } from 'commander';
import { CHECKS, findCheck } from '../../../checks/index.js';
import { InputError } from '../../core/errors.js';
import { GENERIC_CODES } from '../../core/findings.js';
import type { CommandContext } from '../run-command.js';

const NEEDS = { node: 'host facts', fleet: 'all hosts\' facts', cluster: 'cluster API', workload: 'cluster (writes)' } as const;
const RUNS_ON = { node: 'each host (node collector facts)', fleet: 'all hosts together (fleet)', cluster: 'the cluster, through its API', workload: 'the cluster: creates a namespace of its own, runs the scenario, deletes it' } as const;

function catalogue(): string {
  const rows = CHECKS.map((c) => [c.id, c.area, NEEDS[c.kind], c.title]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), ['ID', 'AREA', 'NEEDS'][i].length));
  const fmt = (r: string[]) => r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join('  ');
  return [fmt(['ID', 'AREA', 'NEEDS', 'TITLE']), ...rows.map(fmt)].join('\n') + '\n';
}

/** `kubecheck explain ID` (or ID/CODE): why a check matters, its fix, its codes and the doctor causes that read them. */
async function explain(ref: string): Promise<string> {
  const [id, wanted] = ref.split('/');
  const check = findCheck(id);
  if (!check) throw new InputError([{ message: `unknown check id '${id}'; \`kubecheck list\` shows them all` }]);
  const all = { ...check.codes, ...GENERIC_CODES };
  if (wanted !== undefined && !(wanted in all)) {
    throw new InputError([{ message: `${id} has no code '${wanted}' (it has: ${Object.keys(check.codes).join(', ')})` }]);
  }
  const { RULES } = await import('../../doctor/rules/index.js');
  const causes = (code: string) => RULES.filter((r) => r.codes.includes(`${id}/${code}`)).map((r) => r.cause);
  const width = Math.max(...Object.keys(check.codes).map((k) => `${id}/${k}`.length));
  const codeLines = Object.entries(check.codes).map(([k, v]) => {
    const c = causes(k);
    return `  ${`${id}/${k}`.padEnd(width)}  ${v}${c.length ? ` (doctor: ${c.join(', ')})` : ''}`;
  });
  const params = check.params && (check.params as { properties?: Record<string, { description?: string; type?: string }> }).properties;
  return [
    ...(wanted !== undefined ? [`${id}/${wanted}: ${all[wanted]}${causes(wanted).length ? `; the doctor reads it as ${causes(wanted).join(', ')}` : ''}`, ''] : []),
    `${check.id} — ${check.title}`,
    '',
    `Area: ${check.area}    Runs on: ${RUNS_ON[check.kind]}`,
    '',
    'Why it matters:',
    `  ${check.why}`,
    '',
    'Fix:',
    ...check.remediation.split('\n').map((l) => `  ${l}`),
    '',
    'Finding codes:',
    ...codeLines,
    `  (and the generic ${Object.keys(GENERIC_CODES).join(', ')})`,
    ...(params ? ['', 'Params (in a suite file):', ...Object.entries(params).map(([k, v]) => `  ${k} (${v.type ?? 'value'})${v.description ? `: ${v.description}` : ''}`)] : []),
  ].join('\n') + '\n';
}

export function register(program: Command, ctx: CommandContext): void {
  program.command('list')
    .description('list the check catalogue')
    .addOption(new Option('-o, --output <format>', 'text or json').choices(['text', 'json']).default('text'))
    .action((options: { output: string }) => {
      process.stdout.write(options.output === 'json'
        ? JSON.stringify(CHECKS.map((c) => ({ id: c.id, title: c.title, area: c.area, kind: c.kind, why: c.why, remediation: c.remediation, codes: Object.fromEntries(Object.entries(c.codes).map(([k, v]) => [`${c.id}/${k}`, v])) })), null, 2) + '\n'
        : catalogue());
      ctx.setCode(0);
    });

  program.command('explain')
    .description('why a check matters and how to fix what it finds')
    .argument('<id>', 'check id, e.g. node.swap, or a finding code, e.g. node.swap/swap-on')
    .action(async (id: string) => {
      process.stdout.write(await explain(id));
      ctx.setCode(0);
    });
}
