import type { Rule } from '../evidence.js';
import { linesMatching } from '../evidence.js';

export const kubeletDown: Rule = {
  cause: 'kubelet-down',
  depth: 5,
  match(e) {
    const f = e.host?.facts;
    const logs = linesMatching(e, ['Kubelet stopped posting node status', 'failed to run Kubelet', 'kubelet.service: Failed']);
    if (f) {
      const proc = f.processes.find((p) => p.comm === 'kubelet' || p.comm.startsWith('k3s'));
      const unit = f.services.kubelet;
      if (!proc) {
        return { confidence: 'high', summary: `the kubelet is not running on the host${unit ? ` (systemd: ${unit})` : ''}`, evidence: [`no kubelet process${unit ? `; systemctl is-active kubelet: ${unit}` : ''}`, ...logs], fix: ['systemctl restart kubelet', 'journalctl -u kubelet -n 50 --no-pager   # if it exits again, the reason is in its last lines'] };
      }
      if (f.kubeletHealthz.ok && !f.kubeletHealthz.value.ok) {
        return { confidence: 'high', summary: `the kubelet runs (pid ${proc.pid}) but /healthz is not ok: ${f.kubeletHealthz.value.detail}`, evidence: [`GET 127.0.0.1:10248/healthz: ${f.kubeletHealthz.value.detail}`, ...logs], fix: ['journalctl -u kubelet -n 100 --no-pager', 'systemctl restart kubelet'] };
      }
      return null;
    }
    return null;
  },
};
