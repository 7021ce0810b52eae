import type { InstallProfile } from '../../profiles/profiles.js';
import { parseKeyValues } from './sections.js';

export interface Meta {
  hostname: string;
  kernel: string;
  os: string;
  uid: number | null;
  init: 'systemd' | 'other';
  cpus: number | null;
  memoryMiB: number | null;
}

const numberOrNull = (text: string | undefined): number | null => {
  if (text === undefined || text.trim() === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
};

/** /sys/devices/system/cpu/online (`0-3`, `0,2-5`) as a CPU count. */
export function countCpuList(text: string): number | null {
  let n = 0;
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return null;
    n += m[2] === undefined ? 1 : Number(m[2]) - Number(m[1]) + 1;
  }
  return n || null;
}

export function parseMeta(text: string): Meta {
  const kv = parseKeyValues(text);
  const memKiB = numberOrNull(kv.memkib);
  return {
    hostname: kv.hostname ?? '',
    kernel: kv.kernel ?? '',
    os: kv.os ?? '',
    uid: numberOrNull(kv.uid),
    init: kv.init === 'systemd' ? 'systemd' : 'other',
    cpus: kv.cpuonline !== undefined ? countCpuList(kv.cpuonline) : numberOrNull(kv.cpus),
    memoryMiB: memKiB === null ? null : Math.floor(memKiB / 1024),
  };
}

/** `net/ipv4/ip_forward=1` lines into dotted names; `<missing>` becomes null. */
export function parseSysctls(text: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(parseKeyValues(text))) {
    out[key.replace(/\//g, '.')] = value === '<missing>' ? null : value;
  }
  return out;
}

export function parseProcesses(text: string): { pid: number; comm: string }[] {
  return text
    .split('\n')
    .map((line) => /^(\d+) (.+)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), comm: m[2] }));
}

/** `UNIT FILE yes|no` lines: each unit's file (`-` when none) and whether it is enabled at boot. */
export function parseUnits(text: string): Record<string, { file?: string; enabled: boolean }> {
  const out: Record<string, { file?: string; enabled: boolean }> = {};
  for (const line of text.split('\n')) {
    const m = /^(\S+) (\S+) (yes|no)$/.exec(line.trim());
    if (m) out[m[1]] = { ...(m[2] !== '-' ? { file: m[2] } : {}), enabled: m[3] === 'yes' };
  }
  return out;
}

/**
 * `units A B C` then one `systemctl is-active` state per line (or older `unit state` lines); empty on
 * hosts without systemd.
 */
export function parseServices(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (text.trim() === 'not systemd') return out;
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines[0]?.startsWith('units ')) {
    const units = lines[0].split(/\s+/).slice(1);
    units.forEach((unit, i) => (out[unit] = lines[i + 1] ?? 'unknown'));
    return out;
  }
  for (const line of lines) {
    const [unit, state] = line.trim().split(/\s+/);
    if (unit) out[unit] = state || 'unknown';
  }
  return out;
}

/**
 * CRI sockets found, whether crictl got an answer, and whether ss shows a listener on them (unix
 * listeners come from the listen section's `u_str` lines, or `ss …` lines of older collectors).
 */
/** The container runtimes installed (in PATH), from the crisock section's `installed NAME PATH` lines. */
export function parseInstalledRuntimes(text: string): string[] {
  return text.split('\n').map((l) => /^installed (\S+) /.exec(l.trim())?.[1]).filter((n): n is string => !!n);
}

export function parseCriSockets(text: string, listen = ''): { path: string; listening: boolean; answer?: string }[] {
  const sockets = new Map<string, { path: string; listening: boolean; answer?: string }>();
  const unixListeners = listen.split('\n').filter((l) => /^u_(str|seq)\s/.test(l.trim())).map((l) => `ss ${l.trim()}`);
  const lines = [...text.split('\n').map((l) => l.trim()), ...unixListeners];
  for (const line of lines) {
    const m = /^socket (\S+)$/.exec(line);
    if (m) sockets.set(m[1], { path: m[1], listening: false });
  }
  for (const line of lines) {
    const answer = /^answer (\S+)\s*(.*)$/.exec(line);
    if (answer && sockets.has(answer[1])) {
      const s = sockets.get(answer[1])!;
      s.listening = true;
      s.answer = answer[2] || 'answered';
    }
    const ss = /^ss .*?(\/\S+\.sock)\b/.exec(line);
    if (ss) {
      // /var/run is a symlink to /run on every current distribution.
      const path = ss[1];
      for (const s of sockets.values()) {
        if (s.path === path || s.path.replace(/^\/var\/run\//, '/run/') === path.replace(/^\/var\/run\//, '/run/')) {
          if (!lines.includes(`noanswer ${s.path}`)) s.listening = true;
        }
      }
    }
  }
  return [...sockets.values()];
}

/** The kubelet's /healthz as curl printed it (body, then `http=CODE`). */
export function parseHealthz(text: string): { ok: boolean; detail: string } {
  if (text.trim() === 'no kubelet process') return { ok: false, detail: 'not queried: no kubelet process runs' };
  const code = /http=(\d{3})\s*$/.exec(text);
  const body = text.replace(/\n?http=\d{3}\s*$/, '').trim();
  if (!code || code[1] === '000') return { ok: false, detail: 'nothing answered on 127.0.0.1:10248' };
  return { ok: code[1] === '200' && body === 'ok', detail: `HTTP ${code[1]}${body ? `: ${body.slice(0, 200)}` : ''}` };
}

export function parseSelinux(text: string): 'enforcing' | 'permissive' | 'disabled' {
  const m = /enforce=(\d)/.exec(text);
  if (!m) return 'disabled';
  return m[1] === '1' ? 'enforcing' : 'permissive';
}

/**
 * `grep -H` lines of the kubelet's and containerd's configs: the cgroup driver each uses. Only the files
 * of the host's profile count (the kubelet's config and containerd's, where that install keeps them).
 */
export function parseCgroupDrivers(text: string, profile?: Pick<InstallProfile, 'kubeletConfig' | 'runtime'>): { kubelet?: string; containerd?: string } {
  const out: { kubelet?: string; containerd?: string } = {};
  const kubeletFiles = profile ? (profile.kubeletConfig ? [profile.kubeletConfig] : []) : ['/var/lib/kubelet/config.yaml'];
  const runtimeFiles = profile ? profile.runtime.configs : ['/etc/containerd/config.toml'];
  for (const raw of text.split('\n')) {
    const colon = raw.indexOf(':');
    const file = raw.slice(0, colon);
    const rest = raw.slice(colon + 1);
    const line = kubeletFiles.includes(file) ? `kubelet ${rest.trim()}` : runtimeFiles.includes(file) ? `containerd ${rest.trim()}` : raw.trim();
    const kubelet = /^kubelet cgroupDriver:\s*"?(\w+)"?/.exec(line);
    if (kubelet) out.kubelet = kubelet[1];
    const containerd = /^containerd\s+SystemdCgroup\s*=\s*(\w+)/.exec(line);
    if (containerd) out.containerd = containerd[1] === 'true' ? 'systemd' : 'cgroupfs';
  }
  return out;
}
