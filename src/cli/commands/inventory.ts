// `kubecheck inventory`: each host as kubecheck will connect to it — address, user, port, keys, jump
// hosts, host-key policy, become, roles — and where each value came from. Reads files only; connects to nothing.
import { type Command, Option } from 'commander';
import { formatProblem } from '../../core/errors.js';
import type { Inventory, InventoryHost } from '../../inventory/load.js';
import { inventoryFrom, type TargetOptions } from '../../inventory/targets.js';
import { limitHosts } from '../../inventory/load.js';
import { displayPath } from '../../inventory/sourced.js';
import { addInventoryOptions } from '../options.js';
import type { CommandContext } from '../run-command.js';

function hostJson(h: InventoryHost, withVars: boolean) {
  return {
    name: h.name,
    address: h.host,
    port: h.port,
    user: h.user,
    identityFiles: h.identityFiles,
    identitiesOnly: h.identitiesOnly,
    hostKeyPolicy: h.hostKeyPolicy,
    knownHostsFiles: h.knownHostsFiles,
    ...(h.proxyJump ? { proxyJump: h.proxyJump } : {}),
    jumps: h.jumps,
    ...(h.connectTimeout ? { connectTimeout: h.connectTimeout } : {}),
    become: h.become ?? h.user !== 'root',
    via: h.via,
    roles: h.roles,
    groups: h.groups,
    sources: h.sources,
    warnings: h.warnings,
    ...(withVars && h.vars ? { vars: h.vars } : {}),
  };
}

const endpoint = (j: { user: string; host: string; port: number }) => `${j.user}@${j.host}${j.port === 22 ? '' : `:${j.port}`}`;

function hostText(h: InventoryHost): string {
  const rows: [string, string, string | undefined][] = [
    ['address', h.host, h.sources.host],
    ['user', h.user, h.sources.user],
    ['port', String(h.port), h.sources.port],
    ['key', h.sources.identityFiles === 'default' ? `ssh's defaults (${h.identityFiles.map(displayPath).join(', ')})` : h.identityFiles.map(displayPath).join(', '), h.sources.identityFiles === 'default' ? undefined : h.sources.identityFiles],
    ...(h.identitiesOnly ? [['only keys', 'yes (no agent)', h.sources.identitiesOnly] as [string, string, string | undefined]] : []),
    ['jump', h.jumps.length ? h.jumps.map(endpoint).join(' → ') : '—', h.sources.proxyJump],
    ['host key', `${h.hostKeyPolicy} (${h.knownHostsFiles.map(displayPath).join(', ')})`, h.sources.hostKeyPolicy === h.sources.knownHostsFiles ? h.sources.hostKeyPolicy : `${h.sources.hostKeyPolicy}; ${h.sources.knownHostsFiles}`],
    ...(h.connectTimeout ? [['timeout', `${h.connectTimeout} s`, h.sources.connectTimeout] as [string, string, string | undefined]] : []),
    ['become', h.become !== undefined ? (h.become ? 'yes (sudo -n)' : 'no') : h.user === 'root' ? 'no (root)' : 'yes (sudo -n, not root)', h.sources.become],
    ['roles', h.roles.join(', ') || '—', h.sources.roles],
  ];
  const width = Math.min(32, Math.max(...rows.map((r) => r[1].length)));
  const head = `${h.name}  ${h.via === 'local' ? 'local (ansible_connection)' : `${endpoint(h)}`}${h.groups.length ? `  [${h.groups.join(', ')}]` : ''}`;
  return [head, ...rows.map(([k, v, from]) => `  ${k.padEnd(9)} ${from && from !== 'default' ? `${v.padEnd(width)}  ← ${from}` : v}`), ...h.warnings.map((w) => `  ! ${w}`)].join('\n');
}

function renderText(inv: Inventory, hosts: InventoryHost[]): string {
  const head = [
    `${inv.file}: ${hosts.length} host${hosts.length === 1 ? '' : 's'} (${inv.format})`,
    ...(inv.files.length ? [`  read: ${inv.files.join(', ')}`] : []),
    `  ssh_config: ${inv.sshConfigFiles.length ? inv.sshConfigFiles.join(', ') : 'none'}`,
  ];
  return `${head.join('\n')}\n\n${hosts.map(hostText).join('\n\n')}\n`;
}

export function register(program: Command, ctx: CommandContext): void {
  addInventoryOptions(program.command('inventory')
    .description('show each host as kubecheck will reach it, and where each value came from (connects to nothing)'))
    .addOption(new Option('-o, --output <format>', 'text or json').choices(['text', 'json']).default('text'))
    .option('--vars', 'with -o json: each Ansible host\'s variables too, as `ansible-inventory --list` shows them')
    .action(async (options: TargetOptions & { output: string; vars?: boolean }) => {
      const inv = await inventoryFrom(options);
      const hosts = limitHosts(inv.hosts, options.limit ?? []);
      for (const w of inv.warnings) process.stderr.write(`kubecheck: ${formatProblem(w)}\n`);
      process.stdout.write(options.output === 'json'
        ? `${JSON.stringify({ inventory: inv.file, format: inv.format, files: inv.files, sshConfigFiles: inv.sshConfigFiles, warnings: inv.warnings.map(formatProblem), hosts: hosts.map((h) => hostJson(h, options.vars === true)) }, null, 2)}\n`
        : renderText(inv, hosts));
      ctx.setCode(0);
    });
}
