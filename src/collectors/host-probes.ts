// What a host is asked over its one connection after the collector ran: whether each CRI socket really
// speaks the CRI (where crictl did not say), and whether the registries and mirrors its runtime is
// configured for can be reached from it. Each try is bounded; a transport that cannot dial is noted.
import type { NodeFacts } from '../core/facts.js';
import { type Transport, canConnect } from '../transports/types.js';
import { criVersion } from './cri.js';
import { registryEndpoints } from './node/preinstall.js';

export interface HostProbeOptions {
  signal: AbortSignal;
  /** Time for each try (default 3 s). */
  timeoutMs?: number;
  /**
   * Registries to try besides the configured ones (`host:port`, or a URL). Without it no registry is
   * dialled (only node.registry reads them).
   */
  endpoints?: string[];
}

const MAX_ENDPOINTS = 8;

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Adds the CRI answers and endpoint reachability to `facts` (a new object; the input is not changed). */
export async function probeHost(transport: Transport, facts: NodeFacts, options: HostProbeOptions): Promise<NodeFacts> {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const exec = { timeoutMs, signal: options.signal };
  const sockets = await Promise.all(facts.runtimeSockets.map(async (s) => {
    if (s.answer || !transport.connectUnix) return s;
    try {
      const stream = await transport.connectUnix(s.path, exec);
      const v = await criVersion(stream as never, timeoutMs);
      return { ...s, listening: true, answer: `RuntimeName: ${v.runtimeName} RuntimeVersion: ${v.runtimeVersion} (CRI ${v.runtimeApiVersion || v.version})` };
    } catch (err: unknown) {
      const why = reason(err);
      // Refused as the login user (a non-root SSH user): the socket's own listener state stands.
      if (/denied|administratively prohibited/i.test(why)) return { ...s, problem: `could not ask it (${why})` };
      return { ...s, listening: false, problem: `does not answer the CRI: ${why}` };
    }
  }));
  if (!options.endpoints) return { ...facts, runtimeSockets: sockets };
  const configured = registryEndpoints(facts.runtimeConfig).map((e) => ({ address: e.address, url: e.url }));
  const asked = options.endpoints.map((e) => {
    const m = /^(?:(https?):\/\/)?([^/]+)/.exec(e);
    const host = m?.[2] ?? e;
    return { address: /:\d+$/.test(host) ? host : `${host}:${m?.[1] === 'http' ? 80 : 443}`, url: e };
  });
  const seen = new Set<string>();
  const targets = [...asked, ...configured].filter((t) => !seen.has(t.address) && seen.add(t.address)).slice(0, MAX_ENDPOINTS);
  let endpoints: NodeFacts['endpoints'];
  if (targets.length && (transport.probeTcp || transport.connectTcp)) {
    endpoints = await Promise.all(targets.map(async (t) => {
      const [, host, port] = /^(.*):(\d+)$/.exec(t.address)!;
      try {
        await canConnect(transport, host.replace(/^\[|\]$/g, ''), Number(port), exec);
        return { ...t, ok: true, detail: 'connected' };
      } catch (err: unknown) {
        return { ...t, ok: false, detail: reason(err).replace(`${host}:${port}: `, '') };
      }
    }));
  }
  return { ...facts, runtimeSockets: sockets, ...(endpoints ? { endpoints } : {}) };
}
