import { readFileSync } from 'node:fs';
import type { NodeFacts } from '../../core/facts.js';
import { known } from '../../core/facts.js';
import { assetPath } from '../../core/assets.js';
import type { ExecOptions, Transport } from '../../transports/types.js';
import { TransportError } from '../../transports/types.js';
import { parseCertificates } from './certificates.js';
import { parseCniBinaries, parseCniConfigs } from './cni.js';
import { parseProcNetListen, parseSsListen } from './listeners.js';
import { parseIpAddrJson, parseSysNet } from './network.js';
import { type Section, failureOf, parseKeyValues, probeSection, splitSections } from './sections.js';
import { parseFstabSwap, parseProcSwaps } from './swap.js';
import {
  parseCgroupDrivers,
  parseCriSockets,
  parseInstalledRuntimes,
  parseHealthz,
  parseMeta,
  parseProcesses,
  parseSelinux,
  parseServices,
  parseSysctls,
} from './system.js';

let script: string | undefined;
let logScript: string | undefined;

/** The collector script, read once per process from the package (doctor adds the kubelet log section). */
export function nodeCollectorScript(options: { kubeletLog?: boolean } = {}): string {
  script ??= readFileSync(assetPath('src/collectors/node/collect-node.sh'), 'utf8');
  if (!options.kubeletLog) return script;
  logScript ??= readFileSync(assetPath('src/collectors/node/kubelet-log.sh'), 'utf8');
  return `${script}\n${logScript}`;
}

export interface CollectorTiming {
  sentAt: number;
  firstByteAt: number;
  endedAt: number;
}

const ok = (s: Section | undefined) => s !== undefined && s.rc === 0;

/** Parses the collector's whole output into NodeFacts. Pure: tested on recorded outputs in fixtures/. */
export function parseNodeFacts(output: string, timing?: CollectorTiming): NodeFacts {
  const sections = splitSections(output);
  const get = (name: string) => sections.get(name);
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
  const raw: Record<string, string> = {};
  for (const [name, section] of sections) raw[name] = section.output;

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
    modules: (get('modules')?.output ?? '').split('\n').map((l) => l.trim()).filter(Boolean),
    cpus: meta.cpus,
    memoryMiB: meta.memoryMiB,
    processes: parseProcesses(get('procs')?.output ?? ''),
    services: parseServices(get('services')?.output ?? ''),
    runtimeSockets: parseCriSockets(get('crisock')?.output ?? '', get('listen')?.output ?? ''),
    runtimesInstalled: parseInstalledRuntimes(get('crisock')?.output ?? ''),
    kubeletHealthz:
      healthz && (healthz.rc === 0 || healthz.rc === 7 || healthz.rc === 28 || /http=\d{3}/.test(healthz.output))
        ? known(parseHealthz(healthz.output))
        : failureOf(healthz, 'kubelet /healthz'),
    selinux: parseSelinux(get('selinux')?.output ?? ''),
    certificates: parseCertificates(get('certs')?.output ?? ''),
    cni: {
      binaries: probeSection(get('cnibin'), '/opt/cni/bin', parseCniBinaries),
      configs: probeSection(get('cninet'), '/etc/cni/net.d', parseCniConfigs),
      subnetEnv: probeSection(get('subnetenv'), '/run/flannel/subnet.env', parseKeyValues),
    },
    cgroupDrivers: parseCgroupDrivers(get('cgroups')?.output ?? ''),
    raw,
  };
}

/** Runs the collector once on a host and parses its output. Transport failures propagate as TransportError. */
export async function collectNodeFacts(transport: Transport, options: ExecOptions & { kubeletLog?: boolean }): Promise<NodeFacts> {
  const result = await transport.exec(nodeCollectorScript({ kubeletLog: options.kubeletLog === true }), options);
  if (!result.stdout.includes('@@kc:meta')) {
    const said = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ');
    throw new TransportError('exec', `the node collector did not run (exit ${result.code ?? 'none'}): ${said || 'no output'}`);
  }
  return parseNodeFacts(result.stdout, result.timing);
}
