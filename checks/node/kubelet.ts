import type { NodeCheck } from '../../src/core/types.js';
import { fail, pass, skip, warn } from '../../src/core/findings.js';
import { restartCommand } from './restart.js';

export const kubelet: NodeCheck = {
  kind: 'node',
  id: 'node.kubelet',
  title: 'The kubelet runs and its /healthz answers ok',
  area: 'node',
  codes: {
    'pre-install': 'pre-install: the kubelet is not expected to run yet',
    'not-running': 'no kubelet process on the host',
    'healthz-unreadable': 'the kubelet runs but /healthz could not be queried (no curl or wget)',
    'unhealthy': 'the kubelet runs but /healthz is not ok',
  },
  why:
    'The kubelet is what makes a machine a node: it posts node status, runs pods and renews the node lease. ' +
    'If it is down or unhealthy the node goes NotReady ("Kubelet stopped posting node status").',
  remediation: 'systemctl restart kubelet && journalctl -u kubelet -n 50 --no-pager',
  run(facts, ctx) {
    const proc = facts.processes.find((p) => p.comm === 'kubelet' || p.comm.startsWith('k3s'));
    const unit = facts.services.kubelet;
    const evidence: Record<string, string> = {
      process: proc ? `${proc.pid} ${proc.comm}` : 'no kubelet process',
      healthz: facts.raw.healthz ?? '',
      ...(unit ? { 'systemctl is-active kubelet': unit } : {}),
    };
    if (ctx.phase === 'pre') {
      return skip('pre-install: the kubelet starts with kubeadm init/join (before that it restarts in a loop, as expected)', { code: 'pre-install' });
    }
    if (!proc) {
      return fail(`the kubelet is not running${unit ? ` (systemd: ${unit})` : ''}`, { evidence, remediation: restartCommand(facts, 'kubelet'), code: 'not-running' });
    }
    if (!facts.kubeletHealthz.ok) {
      return warn(`the kubelet runs (pid ${proc.pid}) but /healthz could not be queried: ${facts.kubeletHealthz.detail}`, {
        code: 'healthz-unreadable',
        evidence,
        remediation: 'install curl, or check by hand: curl -s http://127.0.0.1:10248/healthz',
      });
    }
    if (!facts.kubeletHealthz.value.ok) {
      return fail(`the kubelet runs (pid ${proc.pid}) but /healthz is not ok: ${facts.kubeletHealthz.value.detail}`, { evidence, code: 'unhealthy' });
    }
    return pass(`kubelet runs (pid ${proc.pid}), /healthz ok`, { evidence });
  },
};
