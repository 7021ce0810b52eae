import type { Listener } from '../../src/core/facts.js';
import type { Finding, NodeCheck, Role } from '../../src/core/types.js';
import { combine, fail, pass, unreadable, warn } from '../../src/core/findings.js';

interface PortRule {
  from: number;
  to: number;
  component: string;
  /** Process names (comm, 15 characters) that may hold the port once the cluster is installed. */
  owners: string[];
  roles: Role[];
  legacy?: boolean;
}

const K3S = ['k3s', 'k3s-server', 'k3s-agent'];

export const PORT_RULES: readonly PortRule[] = [
  { from: 6443, to: 6443, component: 'kube-apiserver', owners: ['kube-apiserver', ...K3S], roles: ['control-plane'] },
  { from: 2379, to: 2380, component: 'etcd', owners: ['etcd', ...K3S], roles: ['control-plane', 'etcd'] },
  { from: 10250, to: 10250, component: 'kubelet', owners: ['kubelet', ...K3S], roles: ['control-plane', 'worker'] },
  { from: 10257, to: 10257, component: 'kube-controller-manager', owners: ['kube-controller', ...K3S], roles: ['control-plane'] },
  { from: 10259, to: 10259, component: 'kube-scheduler', owners: ['kube-scheduler', ...K3S], roles: ['control-plane'] },
  { from: 10251, to: 10251, component: 'kube-scheduler (insecure, before 1.17)', owners: ['kube-scheduler'], roles: ['control-plane'], legacy: true },
  { from: 10252, to: 10252, component: 'kube-controller-manager (insecure, before 1.17)', owners: ['kube-controller'], roles: ['control-plane'], legacy: true },
];

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
    const rules = PORT_RULES.filter((r) => r.roles.some((role) => roles.includes(role)) && (!r.legacy || ctx.params.legacyPorts === true));
    const evidence = { listeners: facts.raw.listen ?? facts.raw.listenproc ?? '' };
    const problems: Finding[] = [];
    const unnamed = !facts.listenerProcesses ? ' (process names unknown: run as root to see them)' : '';

    for (const rule of rules) {
      const holders = listeners.filter((l) => l.proto === 'tcp' && l.port >= rule.from && l.port <= rule.to);
      if (ctx.phase === 'pre') {
        for (const l of holders) {
          problems.push(fail(`${l.port}/tcp (${rule.component}) is taken by ${describe(l)}`, {
            evidence,
            remediation: `ss -ltnp 'sport = :${l.port}'  # then stop${l.process ? ` ${l.process}` : ' that process'} or move it off ${l.port}`,
            code: 'port-taken',
          }));
        }
        continue;
      }
      if (holders.length === 0) {
        if (!rule.legacy) problems.push(fail(`nothing listens on ${portLabel(rule)}/tcp (expected ${rule.component})`, { evidence, code: 'not-listening' }));
        continue;
      }
      for (const l of holders) {
        if (!l.process) problems.push(warn(`${l.port}/tcp is held by an unknown process; cannot confirm it is ${rule.component}${unnamed}`, { evidence, code: 'holder-unknown' }));
        else if (!rule.owners.includes(l.process)) {
          problems.push(fail(`${l.port}/tcp is held by ${describe(l)}, expected ${rule.component}`, { evidence, code: 'wrong-holder' }));
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

    const list = rules.map(portLabel).join(', ') + (roles.includes('worker') ? ', NodePorts' : '');
    return combine(problems, pass(
      ctx.phase === 'pre' ? `ports free: ${list}${unnamed}` : `ports held by their components: ${list}`,
      { evidence },
    ));
  },
};
