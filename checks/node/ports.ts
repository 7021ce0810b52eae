import type { Listener } from '../../src/core/facts.js';
import type { Finding, NodeCheck, Role } from '../../src/core/types.js';
import { combine, fail, pass, unreadable, warn } from '../../src/core/findings.js';
import { type ComponentPorts, PROFILES, profileNamed } from '../../src/profiles/profiles.js';

/** One port range a component may hold, with the component it belongs to. */
interface PortRule {
  from: number;
  to: number;
  component: string;
  /** Process names (comm, 15 characters) that may hold the port once the cluster is installed. */
  owners: string[];
  legacy?: boolean;
}

/** The ports a component may hold on this cluster's version (all of them when the version is unknown). */
function portsFor(c: ComponentPorts, minor: number | undefined, legacyAsked: boolean): PortRule[] {
  return c.ports
    .filter((p) => (minor === undefined ? !p.legacy || legacyAsked : (p.since === undefined || minor >= p.since) && (p.until === undefined || minor <= p.until)))
    .filter((p) => minor !== undefined || !p.legacy || legacyAsked)
    .map((p) => ({ from: p.from, to: p.to, component: c.component, owners: c.owners, ...(p.legacy ? { legacy: true } : {}) }));
}

const DEFAULT_NODEPORTS = '30000-32767';

const describe = (l: Listener) =>
  `${l.process ? `${l.process} (pid ${l.pid})` : 'an unknown process'} on ${l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port}/${l.proto}`;

const portLabel = (r: PortRule) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`);

export function parsePortRange(text: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(text.trim());
  if (!m || Number(m[1]) > Number(m[2])) throw new Error(`not a port range: ${text}`);
  return [Number(m[1]), Number(m[2])];
}

export const ports: NodeCheck = {
  kind: 'node',
  id: 'node.ports',
  title: 'Kubernetes ports are free (pre-install) or held by the right component (post-install)',
  area: 'node',
  codes: {
    'port-taken': 'pre-install: a port a component will bind is already taken',
    'not-listening': 'post-install: nothing listens where a component should',
    'wrong-holder': "post-install: another process holds a component's port",
    'holder-unknown': 'a port is held by a process whose name cannot be read (not root)',
    'nodeport-taken': 'a service listens inside the NodePort range',
  },
  why:
    'Before kubeadm init/join, every port a component will bind must be free, or that component cannot ' +
    'start (kubeadm: "Port 6443 is in use"). After install, each port must be held by the component that ' +
    'owns it; anything else there means a stray process, or the component is down.',
  remediation: 'find the process with `ss -ltnp "sport = :PORT"` and stop it, or move it to another port',
  params: {
    type: 'object',
    properties: {
      legacyPorts: { type: 'boolean', description: 'also check 10251/10252 (clusters before 1.17)' },
      nodePortRange: { type: 'string', pattern: '^\\d+-\\d+$', description: 'the NodePort range (default 30000-32767)' },
    },
    additionalProperties: false,
  },
  run(facts, ctx) {
    if (!facts.listeners.ok) return unreadable(facts.listeners, 'listening sockets');
    const listeners = facts.listeners.value;
    const roles = ctx.roles.length ? ctx.roles : (['control-plane'] as Role[]);
    const profile = profileNamed(facts.profile.name) ?? PROFILES.kubeadm;
    const legacyAsked = ctx.params.legacyPorts === true;
    const components = profile.ports.filter((c) => c.roles.some((role) => roles.includes(role)));
    const rules = components.flatMap((c) => portsFor(c, ctx.clusterMinor, legacyAsked));
    const evidence = { listeners: facts.raw.listen ?? facts.raw.listenproc ?? '' };
    const problems: Finding[] = [];
    const unnamed = !facts.listenerProcesses ? ' (process names unknown: run as root to see them)' : '';

    const held: string[] = [];
    if (ctx.phase === 'pre') {
      for (const rule of rules) {
        for (const l of listeners.filter((x) => x.proto === 'tcp' && x.port >= rule.from && x.port <= rule.to)) {
          problems.push(fail(`${l.port}/tcp (${rule.component}) is taken by ${describe(l)}`, {
            evidence,
            remediation: `ss -ltnp 'sport = :${l.port}'  # then stop${l.process ? ` ${l.process}` : ' that process'} or move it off ${l.port}`,
            code: 'port-taken',
          }));
        }
      }
    } else {
      // After install a component holds one of its ports for the cluster's version (10257, or the
      // insecure 10252 of clusters before 1.17); without the version, any of them.
      for (const c of components) {
        const candidates = ctx.clusterMinor === undefined ? portsFor(c, undefined, true) : rules.filter((r) => r.component === c.component);
        let owned = false;
        for (const rule of candidates) {
          const holders = listeners.filter((l) => l.proto === 'tcp' && l.port >= rule.from && l.port <= rule.to);
          if (holders.length && holders.every((l) => l.process && rule.owners.includes(l.process))) {
            owned = true;
            held.push(portLabel(rule));
          }
          for (const l of holders) {
            if (!l.process) problems.push(warn(`${l.port}/tcp is held by an unknown process; cannot confirm it is ${rule.component}${unnamed}`, { evidence, code: 'holder-unknown' }));
            else if (!rule.owners.includes(l.process)) problems.push(fail(`${l.port}/tcp is held by ${describe(l)}, expected ${rule.component}`, { evidence, code: 'wrong-holder' }));
          }
        }
        const unknownHolder = candidates.some((r) => listeners.some((l) => l.proto === 'tcp' && l.port >= r.from && l.port <= r.to && !l.process));
        if (!owned && !unknownHolder && candidates.length) {
          const primary = candidates.filter((r) => !r.legacy);
          const label = (primary.length ? primary : candidates).map(portLabel).join(' or ');
          problems.push(fail(`nothing listens on ${label}/tcp (expected ${c.component})`, { evidence, code: 'not-listening' }));
        }
      }
    }

    if (roles.includes('worker')) {
      const [low, high] = parsePortRange(typeof ctx.params.nodePortRange === 'string' ? ctx.params.nodePortRange : DEFAULT_NODEPORTS);
      for (const l of listeners.filter((x) => x.port >= low && x.port <= high)) {
        if (ctx.phase === 'post' && l.process === 'kube-proxy') continue;
        const msg = `${l.port}/${l.proto} is inside the NodePort range ${low}-${high}, held by ${describe(l)}`;
        problems.push(ctx.phase === 'pre'
          ? fail(msg, { evidence, remediation: `move that service off ${l.port}, or give the apiserver another --service-node-port-range`, code: 'nodeport-taken' })
          : warn(msg, { evidence, code: 'nodeport-taken' }));
      }
    }

    const nodePorts = roles.includes('worker') ? ', NodePorts' : '';
    return combine(problems, pass(
      ctx.phase === 'pre' ? `ports free: ${rules.map(portLabel).join(', ')}${nodePorts}${unnamed}` : `ports held by their components: ${held.join(', ')}${nodePorts}`,
      { evidence },
    ));
  },
};
