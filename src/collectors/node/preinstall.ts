// Parsers for what kubeadm's preflight and the install guides look at: executables in PATH, versions,
// hostname resolution, default routes, proxy settings, leftovers of an earlier install, settings that
// survive a reboot, disk space, the runtime's registry configuration and SystemVerification's inputs.
// Pure functions over the collector's sections, tested on recorded outputs.

import type { DefaultRoute, DiskSpace, Leftovers, Persisted, ProxySetting, RuntimeConfig, SystemInputs } from '../../core/facts.js';

/** `name path` or `name -` lines. */
export function parseBinaries(text: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const line of text.split('\n')) {
    const m = /^(\S+) (\S+)$/.exec(line.trim());
    if (m) out[m[1]] = m[2] === '-' ? null : m[2];
  }
  return out;
}

/** `kubelet Kubernetes v1.33.1` / `kubeadm v1.33.1` lines; anything else after the name is the error it printed. */
export function parseVersions(text: string): { kubelet?: string; kubeadm?: string; kubeletError?: string; kubeadmError?: string } {
  const out: { kubelet?: string; kubeadm?: string; kubeletError?: string; kubeadmError?: string } = {};
  for (const line of text.split('\n')) {
    const m = /^(kubelet|kubeadm) (.*)$/.exec(line.trim());
    if (!m) continue;
    const v = /^(?:Kubernetes )?(v\d+\.\d+\.\d+\S*)$/.exec(m[2].trim());
    if (v) out[m[1] as 'kubelet' | 'kubeadm'] = v[1];
    else out[`${m[1] as 'kubelet' | 'kubeadm'}Error`] = m[2].trim() || 'no output';
  }
  return out;
}

/** `getent ahosts` lines (`ADDR STREAM name`): the distinct addresses, in order. */
export function parseAhosts(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(STREAM|DGRAM|RAW)\b/.exec(line.trim());
    if (m && !out.includes(m[1])) out.push(m[1]);
  }
  return out;
}

const RTF_UP = 0x1;
const RTF_REJECT = 0x200;

/** A little-endian hex IPv4 address as /proc/net/route writes it (0102A8C0 → 192.168.2.1). */
const procIpv4 = (hex: string) => (/^[0-9A-Fa-f]{8}$/.test(hex) ? [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.') : undefined);

/** 32 hex digits as /proc/net/ipv6_route writes an address, in the usual short form. */
function procIpv6(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]{32}$/.test(hex)) return undefined;
  const groups = Array.from({ length: 8 }, (_, i) => parseInt(hex.slice(i * 4, i * 4 + 4), 16).toString(16));
  const text = groups.join(':');
  // The longest run of zero groups becomes ::.
  let best = '';
  for (const m of text.matchAll(/(?:^|:)0(?::0)+(?::|$)/g)) if (m[0].length > best.length) best = m[0];
  return best ? text.replace(best, '::') : text;
}

/**
 * The default routes: the collector's `== /proc/net/route` and `== /proc/net/ipv6_route` blocks (the
 * default routes' lines, in the kernel's order: where the kubelet's ChooseHostInterface reads them), or
 * `ip -j route show default` output (one JSON array per line) from collectors before that.
 */
export function parseDefaultRoutes(text: string): DefaultRoute[] {
  const out: DefaultRoute[] = [];
  let table = '';
  for (const line of text.split('\n').map((l) => l.trim())) {
    const h = /^== (\S+)$/.exec(line);
    if (h) {
      table = h[1];
      continue;
    }
    const f = line.split(/\s+/);
    if (table === '/proc/net/route' && f.length >= 8) {
      // Iface Destination Gateway Flags RefCnt Use Metric Mask …
      const flags = parseInt(f[3], 16);
      if (f[1] !== '00000000' || f[7] !== '00000000' || !(flags & RTF_UP) || flags & RTF_REJECT) continue;
      const gateway = procIpv4(f[2]);
      out.push({ family: 'inet', dev: f[0], ...(gateway && gateway !== '0.0.0.0' ? { gateway } : {}) });
    } else if (table === '/proc/net/ipv6_route' && f.length >= 10) {
      // Destination PrefixLen Source SourcePrefixLen NextHop Metric RefCnt Use Flags Iface
      const flags = parseInt(f[8], 16);
      if (!/^0{32}$/.test(f[0]) || f[1] !== '00' || !(flags & RTF_UP) || flags & RTF_REJECT || f[9] === 'lo') continue;
      const gateway = procIpv6(f[4]);
      out.push({ family: 'inet6', dev: f[9], ...(gateway && gateway !== '::' ? { gateway } : {}) });
    }
  }
  for (const line of text.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('['))) {
    let routes: { dst?: string; gateway?: string; dev?: string; prefsrc?: string }[];
    try {
      routes = JSON.parse(line) as typeof routes;
    } catch {
      continue;
    }
    for (const r of routes) {
      if (!r.dev) continue;
      const family = r.gateway?.includes(':') ? 'inet6' : 'inet';
      out.push({ family, dev: r.dev, ...(r.gateway ? { gateway: r.gateway } : {}), ...(r.prefsrc ? { prefsrc: r.prefsrc } : {}) });
    }
  }
  return out;
}

const PROXY_NAMES = /^(https?_proxy|no_proxy)$/i;

/** `env NAME=value` lines and `FILE:LINE` (grep -H) lines from /etc/environment and unit drop-ins. */
export function parseProxySettings(text: string): ProxySetting[] {
  const out: ProxySetting[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const env = /^env (\w+)=(.*)$/.exec(line);
    if (env) {
      out.push({ source: 'env', name: env[1], value: env[2] });
      continue;
    }
    const m = /^([^:]+):(.*)$/.exec(line);
    if (!m) continue;
    const body = m[2].trim();
    if (body.startsWith('#')) continue;
    // Environment="HTTP_PROXY=…" "NO_PROXY=…" (a unit) or HTTP_PROXY=… (/etc/environment), quoted or not.
    const assignments = body.replace(/^Environment\s*=\s*/i, '').match(/"[^"]*"|'[^']*'|\S+/g) ?? [];
    for (const a of assignments) {
      const kv = /^(\w+)=(.*)$/.exec(a.replace(/^["']|["']$/g, ''));
      if (kv && PROXY_NAMES.test(kv[1])) out.push({ source: m[1], name: kv[1], value: kv[2].replace(/^["']|["']$/g, '') });
    }
  }
  return out;
}

export function parseLeftovers(text: string): Leftovers {
  const out: Leftovers = { files: [], nonEmptyDirs: [], links: [], kubeChains: null };
  for (const line of text.split('\n')) {
    const m = /^(file|nonempty|link|kube-chains) (.+)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === 'file') out.files.push(m[2]);
    else if (m[1] === 'nonempty') out.nonEmptyDirs.push(m[2]);
    else if (m[1] === 'link') out.links.push(m[2]);
    else if (/^\d+$/.test(m[2])) out.kubeChains = Number(m[2]);
  }
  return out;
}

/** The settings read after a reboot, and the keys among them that the checks judge. */
const PERSISTED_SYSCTL = /^\s*-?(net[./]ipv4[./]ip_forward|net[./]bridge[./]bridge-nf-call-ip6?tables|net[./]ipv6[./]conf[./]all[./]forwarding|vm[./]swappiness)\s*=/;

/**
 * A `FILE:line` of the collector's one grep over every sysctl, modules-load and SELinux file, with the kind
 * its file says (`sysctl FILE:…`, `module FILE:…`, `selinux FILE:…`, as collectors before it wrote them), or
 * '' for a line that sets nothing judged. Lines already written with their kind are kept as they are.
 */
function classified(line: string): string {
  if (/^(sysctl|module|selinux|live) /.test(line)) return line;
  const colon = line.indexOf(':');
  if (colon <= 0) return '';
  const file = line.slice(0, colon);
  const body = line.slice(colon + 1);
  if (file === '/etc/sysctl.conf' || file.includes('/sysctl.d/')) return PERSISTED_SYSCTL.test(body) ? `sysctl ${line}` : '';
  if (file === '/etc/modules' || file.includes('/modules-load.d/')) return `module ${line}`;
  if (file === '/etc/selinux/config') return /^\s*SELINUX=/.test(body) ? `selinux ${line}` : '';
  return '';
}

/** The folder a sysctl/modules-load file is in decides its rank among same-named files (/etc over /run over /usr/lib). */
const DIR_RANK = ['/etc/', '/run/', '/usr/local/lib/', '/usr/lib/', '/lib/'];
const base = (f: string) => f.slice(f.lastIndexOf('/') + 1);

/**
 * `sysctl FILE:key = value`, `module FILE:name`, `selinux FILE:SELINUX=mode` and `live vm.swappiness=N`
 * lines. systemd-sysctl reads the *.conf files of every folder sorted by file name (a name in /etc hides
 * the same name further down) and /etc/sysctl.conf last; a later setting wins.
 */
export function parsePersisted(text: string): Persisted {
  const sysctlLines: { file: string; key: string; value: string }[] = [];
  const modules: { name: string; file: string }[] = [];
  const out: Persisted = { sysctls: {}, modules, swappiness: null };
  for (const raw of text.split('\n')) {
    const line = classified(raw.trim());
    let m = /^sysctl ([^:]+):\s*-?([\w./-]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) {
      sysctlLines.push({ file: m[1], key: m[2].replace(/\//g, '.'), value: m[3] });
      continue;
    }
    m = /^module ([^:]+):\s*([A-Za-z0-9_-]+)/.exec(line);
    if (m) {
      modules.push({ file: m[1], name: m[2].replace(/-/g, '_') });
      continue;
    }
    m = /^selinux ([^:]+):\s*SELINUX=(\S+)/.exec(line);
    if (m) {
      out.selinux = { file: m[1], mode: m[2].replace(/^["']|["']$/g, '') };
      continue;
    }
    m = /^live vm\.swappiness=(\d+)$/.exec(line);
    if (m) out.swappiness = m[1];
  }
  const conf = [...new Set(sysctlLines.map((l) => l.file))].filter((f) => f !== '/etc/sysctl.conf');
  const byName = new Map<string, string>();
  for (const f of conf.sort((a, b) => DIR_RANK.findIndex((d) => a.startsWith(d)) - DIR_RANK.findIndex((d) => b.startsWith(d)))) {
    if (!byName.has(base(f))) byName.set(base(f), f);
  }
  const order = [...[...byName.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, f]) => f), '/etc/sysctl.conf'];
  for (const f of order) for (const l of sysctlLines.filter((x) => x.file === f)) out.sysctls[l.key] = { value: l.value, file: f };
  return out;
}

/** `path WANTED MEASURED` lines, then df -Pk's table (one row per measured folder, in order). */
export function parseDisk(text: string): DiskSpace[] {
  const paths: { path: string; measured: string }[] = [];
  const rows: { size: number; avail: number; mount: string }[] = [];
  for (const line of text.split('\n')) {
    const p = /^path (\S+) (\S+)$/.exec(line.trim());
    if (p) {
      paths.push({ path: p[1], measured: p[2] });
      continue;
    }
    const r = /^\S+\s+(\d+)\s+\d+\s+(\d+)\s+\d+%\s+(.+)$/.exec(line.trim());
    if (r) rows.push({ size: Number(r[1]), avail: Number(r[2]), mount: r[3] });
  }
  return paths.map((p, i) => ({ ...p, mount: rows[i]?.mount ?? '?', sizeKiB: rows[i]?.size ?? 0, availableKiB: rows[i]?.avail ?? 0 })).filter((_, i) => rows[i] !== undefined);
}

export function parseRuntimeConfig(text: string): RuntimeConfig {
  const out: RuntimeConfig = { certDirs: [], containerdHosts: [], containerdLines: [] };
  let current: { kind: 'daemon' | 'dir' | 'hosts' | 'config'; name: string; lines: string[] } | undefined;
  const flush = () => {
    if (!current) return;
    const body = current.lines.join('\n').trim();
    if (current.kind === 'daemon') {
      try {
        const json = JSON.parse(body || '{}') as unknown;
        out.dockerDaemon = json && typeof json === 'object' && !Array.isArray(json) ? { text: body, json: json as Record<string, unknown> } : { text: body, error: 'not a JSON object' };
      } catch (err: unknown) {
        out.dockerDaemon = { text: body, error: (err as Error).message };
      }
    } else if (current.kind === 'dir') {
      const dir = current.name.replace(/\/$/, '');
      out.certDirs.push({ dir, host: dir.slice(dir.lastIndexOf('/') + 1), files: current.lines.map((l) => l.trim()).filter(Boolean) });
    } else if (current.kind === 'hosts') out.containerdHosts.push({ file: current.name, content: body });
    else out.containerdLines.push(...current.lines.map((l) => l.trim()).filter(Boolean));
  };
  for (const line of text.split('\n')) {
    const h = /^==> (dir )?(.+)$/.exec(line);
    if (h) {
      flush();
      const name = h[2].trim();
      current = { kind: h[1] ? 'dir' : name === '/etc/docker/daemon.json' ? 'daemon' : name.endsWith('hosts.toml') ? 'hosts' : 'config', name, lines: [] };
    } else current?.lines.push(line);
  }
  flush();
  return out;
}

/** The system section: /proc/cgroups, `== mounts`, `== cgroup.controllers`, `== memory dir`, `== kernel config FILE|none`. */
export function parseSystemInputs(text: string): SystemInputs {
  const blocks = new Map<string, string[]>([['cgroups', []]]);
  let name = 'cgroups';
  let kernelSource: string | null = null;
  for (const line of text.split('\n')) {
    const h = /^== (.+)$/.exec(line);
    if (h) {
      name = h[1].startsWith('kernel config') ? 'kernel' : h[1];
      if (name === 'kernel') kernelSource = h[1].replace(/^kernel config ?/, '') || null;
      blocks.set(name, []);
    } else blocks.get(name)?.push(line);
  }
  const mounts = (blocks.get('mounts') ?? []).map((l) => l.trim()).filter(Boolean);
  // system-validators' getUnifiedMountpoint: /sys/fs/cgroup itself decides; tmpfs there is v1 when it holds memory/.
  let version: SystemInputs['cgroupVersion'] = 'unknown';
  const root = mounts.map((l) => l.split(/\s+/)).find((f) => f[1] === '/sys/fs/cgroup');
  if (root) version = root[2] === 'tmpfs' ? (blocks.has('memory dir') ? 'v1' : 'v2') : root[2] === 'cgroup2' ? 'v2' : 'v1';
  else if (mounts.some((l) => l.split(/\s+/)[2] === 'cgroup2')) version = 'v2';
  else if (mounts.some((l) => l.split(/\s+/)[2] === 'cgroup')) version = 'v1';
  let controllers: string[];
  if (version === 'v2') {
    controllers = ['devices', 'freezer', ...(blocks.get('cgroup.controllers') ?? []).join(' ').split(/\s+/).filter(Boolean)];
  } else {
    controllers = (blocks.get('cgroups') ?? []).filter((l) => l.trim() && !l.startsWith('#')).map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 4 && f[3] !== '0').map((f) => f[0]);
  }
  let kernelConfig: SystemInputs['kernelConfig'] = null;
  if (kernelSource && kernelSource !== 'none') {
    const values: Record<string, string> = {};
    for (const line of blocks.get('kernel') ?? []) {
      const m = /^CONFIG_(\w+)=(.*)$/.exec(line.trim());
      if (m) values[m[1]] = m[2];
    }
    kernelConfig = { source: kernelSource, values };
  }
  return { cgroupVersion: version, controllers, cgroupMounts: mounts, kernelConfig };
}

/** A registry endpoint the runtime is configured to pull from (a mirror or a registry's host). */
export interface RegistryEndpoint {
  url: string;
  /** host:port to connect to (the scheme's default port when none is written). */
  address: string;
  /** The registry it stands for (`docker.io`, `10.0.0.5:5000`…), when known. */
  registry?: string;
  from: string;
}

function endpointOf(url: string, from: string, registry?: string): RegistryEndpoint | undefined {
  const m = /^(?:(https?):\/\/)?(\[[^\]]+\]|[^/:\s]+)(?::(\d+))?/.exec(url.trim());
  if (!m) return undefined;
  const port = m[3] ?? (m[1] === 'http' ? '80' : '443');
  return { url: url.trim(), address: `${m[2]}:${port}`, ...(registry ? { registry } : {}), from };
}

/** Every endpoint the runtime config names: containerd's hosts.toml (server, [host."…"]) and config.toml mirrors, Docker's registry-mirrors. */
export function registryEndpoints(cfg: RuntimeConfig): RegistryEndpoint[] {
  const out: RegistryEndpoint[] = [];
  for (const h of cfg.containerdHosts) {
    const registry = /certs\.d\/([^/]+)\/hosts\.toml$/.exec(h.file)?.[1];
    for (const m of h.content.matchAll(/^\s*server\s*=\s*"([^"]+)"|^\s*\[host\."([^"]+)"\]/gm)) {
      const e = endpointOf(m[1] ?? m[2], h.file, registry === '_default' ? undefined : registry);
      if (e) out.push(e);
    }
  }
  for (const line of cfg.containerdLines) {
    const m = /endpoint\s*=\s*\[([^\]]*)\]/.exec(line);
    for (const u of m ? [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1]) : []) {
      const e = endpointOf(u, '/etc/containerd/config.toml');
      if (e) out.push(e);
    }
  }
  const mirrors = cfg.dockerDaemon?.json?.['registry-mirrors'];
  for (const u of Array.isArray(mirrors) ? mirrors.map(String) : []) {
    const e = endpointOf(u, '/etc/docker/daemon.json', 'docker.io');
    if (e) out.push(e);
  }
  const seen = new Set<string>();
  return out.filter((e) => !seen.has(e.url) && seen.add(e.url));
}
