import type { NodeFacts } from '../../src/core/facts.js';
import { skip } from '../../src/core/findings.js';
import type { Finding } from '../../src/core/types.js';
import { runsFlannel } from '../../src/profiles/profiles.js';
import { restartCommand } from '../node/restart.js';

/** The skip for flannel's checks on a host that runs another CNI, or undefined when they apply. */
export function notFlannel(facts: NodeFacts): Finding | undefined {
  return runsFlannel(facts.profile.cni) ? undefined : skip(`not flannel: this host runs ${facts.profile.cni} (its CNI config in ${facts.cni.confDir}); these checks do not apply`, { code: 'not-flannel' });
}

/** How flannel is restarted on this host, so it writes subnet.env (and, as a pod, its CNI config) again. */
export function restartFlannel(facts: NodeFacts, node: string): string {
  switch (facts.profile.name) {
    case 'binary': return restartCommand(facts, 'flanneld');
    case 'k3s': return restartCommand(facts, facts.processes.some((p) => p.comm === 'k3s-agent') ? 'k3s-agent' : 'k3s');
    default: return `kubectl -n kube-flannel delete pod -l app=flannel --field-selector spec.nodeName=${node}`;
  }
}
