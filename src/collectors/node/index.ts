import { readFileSync } from 'node:fs';
import type { NodeFacts } from '../../core/facts.js';
import { EVIDENCE_SECTIONS, type Probe, known, unknown } from '../../core/facts.js';
import { assetPath } from '../../core/assets.js';
import { type InstallProfile, allPaths, detectCni, detectHostProfile, profileNamed } from '../../profiles/profiles.js';
import { BINARIES, DATA_DIRS, KERNEL_CONFIG_NAMES, LEFTOVERS, TIME_SYNC } from '../../profiles/kubeadm-spec.js';
import type { ExecOptions, ExecResult, RunningCommand, Transport } from '../../transports/types.js';
import { TransportError } from '../../transports/types.js';
import { parseCertificates } from './certificates.js';
import { cniTypesOf, parseCniBinaries, parseCniConfigs } from './cni.js';
import { parseProcNetListen, parseSsListen } from './listeners.js';
import { parseIpAddrJson, parseSysNet } from './network.js';
import { type Section, failureOf, parseKeyValues, probeSection, splitSections } from './sections.js';
import { parseFstabSwap, parseProcSwaps } from './swap.js';
import { parseAhosts, parseBinaries, parseDefaultRoutes, parseDisk, parseLeftovers, parsePersisted, parseProxySettings, parseRuntimeConfig, parseSystemInputs, parseVersions } from './preinstall.js';
import {
  parseCgroupDrivers,
  parseCriSockets,
  parseInstalledRuntimes,
  parseHealthz,
  parseMeta,
  parseProcesses,
  parseSelinux,
  parseServices,
  parseUnits,
  parseSysctls,
} from './system.js';

let body: string | undefined;
let script: string | undefined;
let withLog: string | undefined;

const words = (xs: readonly string[]) => `'${xs.join(' ')}'`;

/** The folders that hold the profiles' certificate files (reported when unreadable). */
const certDirs = () => [...new Set(allPaths((p) => p.certificates).map((g) => g.slice(0, g.lastIndexOf('/'))))];

/** Every install profile's paths, as the shell variables the collector reads (one run serves any profile). */
export function profilePreamble(): string {
  const units = ['kubelet', 'containerd', 'crio', 'docker', 'cri-docker', 'firewalld', ...TIME_SYNC.units, ...allPaths((p) => p.services.map((s) => s.unit))];
  return [
    `KC_MARKERS=${words(allPaths((p) => p.markers))}`,
    `KC_UNITS=${words([...new Set(units)])}`,
    `KC_SOCKETS=${words(allPaths((p) => p.runtime.sockets))}`,
    `KC_CERTS=${words(allPaths((p) => p.certificates))}`,
    `KC_CERT_DIRS=${words(certDirs())}`,
    `KC_CNI_BIN=${words(allPaths((p) => [p.cni.binDir]))}`,
    `KC_CNI_CONF=${words(allPaths((p) => [p.cni.confDir]))}`,
    `KC_CONFIGS=${words(allPaths((p) => [...(p.kubeletConfig ? [p.kubeletConfig] : []), ...p.runtime.configs]))}`,
    `KC_KUBELET_UNITS=${words(allPaths((p) => p.kubeletLog.units))}`,
    `KC_KUBELET_LOGS=${words(allPaths((p) => p.kubeletLog.files))}`,
    `KC_BINARIES=${words(BINARIES)}`,
    `KC_LEFTOVER_FILES=${words([...LEFTOVERS.initFiles, ...LEFTOVERS.joinFiles, ...LEFTOVERS.otherFiles])}`,
    `KC_LEFTOVER_DIRS=${words([LEFTOVERS.etcdDir, ...LEFTOVERS.otherDirs])}`,
    `KC_DISK_DIRS=${words(DATA_DIRS)}`,
    `KC_KCONFIG='${KERNEL_CONFIG_NAMES.join('|')}'`,
    '',
  ].join('\n');
}

/**
 * The collector script, read once per process from the package (doctor adds the kubelet log section).
 * The phase comes first: what only matters before an install (KUBE-* chains) is read only then.
 */
export function nodeCollectorScript(options: { kubeletLog?: boolean; phase?: 'pre' | 'post' } = {}): string {
  body ??= `${profilePreamble()}${readFileSync(assetPath('src/collectors/node/collect-node.sh'), 'utf8')}`;
  const phase = `KC_PHASE=${options.phase ?? 'post'}\n`;
  if (!options.kubeletLog) return phase + (script ??= gathered(body, ''));
  return phase + (withLog ??= gathered(body, `${readFileSync(assetPath('src/collectors/node/kubelet-log.sh'), 'utf8')}\n`));
}

const CLOCK_SECTION = 'sec clock clock\n';

/**
 * The collector with its sections after the clock gathered by the host's shell and written at once (with
 * `more` sections at the end). Printed as they came they were ~200-300 small writes, each its own SSH
 * packet or WebSocket frame for the client to decrypt and handle. The clock goes first and alone: when
 * it arrives times the host's clock.
 */
function gathered(body: string, more: string): string {
  const at = body.indexOf(CLOCK_SECTION);
  if (at < 0) throw new Error('collect-node.sh has no clock section');
  const end = at + CLOCK_SECTION.length;
  return `${body.slice(0, end)}kc_out=$(\n${body.slice(end)}${more}echo .)\nprintf '%s' "\${kc_out%.}"\n`;
}

export interface CollectorTiming {
  sentAt: number;
  firstByteAt: number;
  endedAt: number;
}

const ok = (s: Section | undefined) => s !== undefined && s.rc === 0;

/**
 * A CNI folder section (`@ DIR` / `@! DIR` then entries, one block per profile's folder) as the probe of
 * `dir`. Output of collectors before profiles (no `@` lines) is the kubeadm folder's.
 */
function cniFolder<T>(section: Section | undefined, dir: string, parse: (text: string) => T): Probe<T> {
  if (!section || !/^@!? /m.test(section.output)) return dir === '/opt/cni/bin' || dir === '/etc/cni/net.d' ? probeSection(section, dir, parse) : unknown('missing', `${dir}: No such file or directory`);
  const blocks = new Map<string, { exists: boolean; body: string[] }>();
  let current: { exists: boolean; body: string[] } | undefined;
  for (const line of section.output.split('\n')) {
    const m = /^@(!?) (\S+)$/.exec(line);
    if (m) {
      current = { exists: m[1] !== '!', body: [] };
      blocks.set(m[2], current);
    } else current?.body.push(line);
  }
  const block = blocks.get(dir);
  if (!block || !block.exists) return unknown('missing', `${dir}: No such file or directory`);
  return probeSection({ name: section.name, output: block.body.join('\n'), rc: 0 }, dir, parse);
}

/** getent ahosts: exit 2 is "not found" (an answer: no addresses), other failures are not knowing. */
function resolved(section: Section | undefined): Probe<string[]> {
  if (section && (section.rc === 0 || section.rc === 2)) return known(parseAhosts(section.output));
  // No answer within getent's bound: for kubeadm's lookup and the kubelet's alike, the name does not resolve.
  if (section?.rc === 124) return known([]);
  return failureOf(section, 'getent ahosts');
}

export interface ParseOptions {
  /** Judge the host as this install (--profile) instead of the one detected. */
  profile?: string;
}

/** Parses the collector's whole output into NodeFacts. Pure: tested on recorded outputs in fixtures/. */
export function parseNodeFacts(output: string, timing?: CollectorTiming, options: ParseOptions = {}): NodeFacts {
  const sections = splitSections(output);
  const get = (name: string) => sections.get(name);
  // `NAME` for a loaded module, `NAME builtin` for one built into the kernel, or modules.builtin's own line
  // for it (`kernel/net/netfilter/ipvs/ip_vs.ko`).
  const modules = (get('modules')?.output ?? '').split('\n').map((l) => l.trim().split(/\s+/)).filter(([name]) => name)
    .map(([name, kind]) => (name.endsWith('.ko') ? { name: name.slice(name.lastIndexOf('/') + 1, -3), builtin: true } : { name, builtin: kind === 'builtin' }));
  if (!sections.has('meta')) {
    throw new Error(`the node collector's output has no sections (got: ${JSON.stringify(output.slice(0, 200))})`);
  }
  const meta = parseMeta(get('meta')?.output ?? '');

  const ipaddr = get('ipaddr');
  const links = ok(ipaddr)
    ? probeSection(ipaddr, 'ip -j addr', parseIpAddrJson)
    : ok(get('sysnet'))
      ? probeSection(get('sysnet'), '/sys/class/net', parseSysNet)
      : failureOf<never>(ipaddr, 'ip -j addr');

  const listen = get('listen');
  const listeners = ok(listen)
    ? probeSection(listen, 'ss', parseSsListen)
    : get('listenproc')
      ? probeSection(get('listenproc'), '/proc/net', parseProcNetListen)
      : failureOf<never>(listen, 'ss');
  const listenerProcesses = ok(listen) && (meta.uid === 0 || (listeners.ok && listeners.value.some((l) => l.process)));

  const clockText = get('clock')?.output.trim() ?? '';
  const hostSeconds = /^\d+(\.\d+)?$/.test(clockText) ? Number(clockText) : NaN;
  let clock: NodeFacts['clock'] = null;
  if (Number.isFinite(hostSeconds) && timing) {
    // The clock section is printed first, so it was read between sending and the first byte back:
    // the midpoint of that round trip is the best estimate of the client's time at that instant.
    const hostMs = hostSeconds * 1000;
    const rttMs = Math.max(0, timing.firstByteAt - timing.sentAt);
    clock = { hostMs, rttMs, offsetMs: Math.round(hostMs - (timing.sentAt + rttMs / 2)) };
  }

  const healthz = get('healthz');
  const raw: NodeFacts['raw'] = {};
  for (const name of EVIDENCE_SECTIONS) {
    const section = sections.get(name);
    if (section) raw[name] = section.output;
  }

  const processes = parseProcesses(get('procs')?.output ?? '');
  const present = new Set((get('layout')?.output ?? '').split('\n').map((l) => l.trim()).filter(Boolean));
  const chosen: { profile: InstallProfile; why: string } = options.profile && profileNamed(options.profile)
    ? { profile: profileNamed(options.profile)!, why: '--profile' }
    : detectHostProfile(present, processes.map((p) => p.comm));
  const profile = chosen.profile;
  const configs = cniFolder(get('cninet'), profile.cni.confDir, parseCniConfigs);
  const cniTypes = configs.ok ? configs.value.filter((c) => /\.(conflist|conf|json)$/.test(c.name)).sort((a, b) => (a.name < b.name ? -1 : 1)).map((c) => cniTypesOf(c.content)) : [];

  return {
    hostname: meta.hostname,
    kernel: meta.kernel,
    os: meta.os,
    uid: meta.uid,
    init: meta.init,
    clock,
    swaps: probeSection(get('swaps'), '/proc/swaps', parseProcSwaps),
    fstabSwap: probeSection(get('fstab'), '/etc/fstab', parseFstabSwap),
    productUuid: probeSection(get('uuid'), 'product_uuid', (text) => text.trim().toLowerCase()),
    links,
    listeners,
    listenerProcesses,
    sysctls: parseSysctls(get('sysctls')?.output ?? ''),
    modules: modules.map((m) => m.name),
    builtinModules: modules.filter((m) => m.builtin).map((m) => m.name),
    cpus: meta.cpus,
    memoryMiB: meta.memoryMiB,
    processes,
    services: parseServices(get('services')?.output ?? ''),
    units: parseUnits(get('units')?.output ?? ''),
    layout: [...present],
    runtimeSockets: parseCriSockets(get('crisock')?.output ?? '', get('listen')?.output ?? ''),
    runtimesInstalled: parseInstalledRuntimes(get('crisock')?.output ?? ''),
    kubeletHealthz:
      healthz && (healthz.rc === 0 || healthz.rc === 7 || healthz.rc === 28 || /http=\d{3}/.test(healthz.output))
        ? known(parseHealthz(healthz.output))
        : failureOf(healthz, 'kubelet /healthz'),
    selinux: parseSelinux(get('selinux')?.output ?? ''),
    certificates: parseCertificates(get('certs')?.output ?? ''),
    cni: {
      binDir: profile.cni.binDir,
      confDir: profile.cni.confDir,
      binaries: cniFolder(get('cnibin'), profile.cni.binDir, parseCniBinaries),
      configs,
      subnetEnv: probeSection(get('subnetenv'), profile.flannelSubnetEnv, parseKeyValues),
    },
    cgroupDrivers: parseCgroupDrivers(get('cgroups')?.output ?? '', profile),
    profile: { name: profile.name, cni: detectCni(cniTypes), why: chosen.why },
    binaries: probeSection(get('binaries'), 'command -v', parseBinaries),
    versions: parseVersions(get('versions')?.output ?? ''),
    hostnameAddresses: resolved(get('resolve')),
    defaultRoutes: probeSection(get('route'), 'ip route show default', parseDefaultRoutes),
    proxy: parseProxySettings(get('proxyenv')?.output ?? ''),
    leftovers: parseLeftovers(get('leftovers')?.output ?? ''),
    persisted: parsePersisted(get('persist')?.output ?? ''),
    disk: probeSection(get('disk'), 'df', parseDisk),
    runtimeConfig: parseRuntimeConfig(get('runtimecfg')?.output ?? ''),
    system: probeSection(get('system'), '/proc/cgroups', parseSystemInputs),
    raw,
  };
}

/** The line a held collector prints when it is done and waits for one more command line on its stdin. */
export const HELD_MARKER = '@@kc:held';

/**
 * The collector for a channel kept open after it (the fleet probe then runs on the same channel): the
 * collector reads nothing of what comes next (its stdin is /dev/null), then it says HELD_MARKER and runs
 * the one command line it is sent next (with the rest of its stdin), or ends on an empty line or end of input.
 */
export function heldCollectorScript(options: { kubeletLog?: boolean; phase?: 'pre' | 'post' } = {}): string {
  return `{\n${nodeCollectorScript(options)}\n} </dev/null\n{ echo '${HELD_MARKER}'; IFS= read -r kc_next || exit 0; [ -n "$kc_next" ] || exit 0; exec /bin/sh -c "$kc_next"; }\n`;
}

type CollectOptions = ExecOptions & { kubeletLog?: boolean; profile?: string; phase?: 'pre' | 'post' };

/** The collector's output as NodeFacts, or the reason it did not run. */
function factsOf(result: ExecResult, options: CollectOptions): NodeFacts {
  if (!result.stdout.includes('@@kc:meta')) {
    const said = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ');
    throw new TransportError('exec', `the node collector did not run (exit ${result.code ?? 'none'}): ${said || 'no output'}`);
  }
  return parseNodeFacts(result.stdout, result.timing, options.profile ? { profile: options.profile } : {});
}

const scriptOptions = (options: CollectOptions) => ({ kubeletLog: options.kubeletLog === true, ...(options.phase ? { phase: options.phase } : {}) });

/** Runs the collector once on a host and parses its output. Transport failures propagate as TransportError. */
export async function collectNodeFacts(transport: Transport, options: CollectOptions): Promise<NodeFacts> {
  return factsOf(await transport.exec(nodeCollectorScript(scriptOptions(options)), options), options);
}

/** A collector's channel still open after it: the command waiting for one more command line, and where its output goes on. */
export interface HeldCollector {
  running: RunningCommand;
  /** The index of the HELD_MARKER line in its output (what comes next starts after it). */
  index: number;
  /** The length of its output up to and with that line. */
  offset: number;
}

/**
 * Runs the collector on a channel that stays open after it (`start`, with `until`): the facts, and the
 * channel waiting for one more command line. `holdMs` bounds the channel's whole life (the collection is
 * bounded by the caller); a collector that ends without holding gives its facts and no channel.
 */
export async function collectNodeFactsHeld(transport: Transport & Required<Pick<Transport, 'start'>>, options: CollectOptions & { holdMs: number }): Promise<{ facts: NodeFacts; held?: HeldCollector }> {
  const running = await transport.start('exec sh -s', { timeoutMs: options.holdMs, signal: options.signal });
  running.write(heldCollectorScript(scriptOptions(options)));
  if (!running.until) {
    running.end();
    return { facts: factsOf(await running.result, options) };
  }
  try {
    const result = await running.until(HELD_MARKER);
    const facts = factsOf(result, options);
    return result.index < 0 ? { facts } : { facts, held: { running, index: result.index, offset: result.stdout.length + HELD_MARKER.length + 1 } };
  } catch (err: unknown) {
    running.end();
    throw err;
  }
}
