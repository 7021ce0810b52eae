import type { Rule } from '../evidence.js';
import { cite, fixOf, found, linesMatching } from '../evidence.js';

/** runc's refusal when containerd uses the systemd driver and the kubelet cgroupfs; the dockershim-era message. */
const PATTERNS = ['for systemd cgroups, got', 'misconfiguration: kubelet cgroup driver', /cgroup driver: .* is different from/];

export const cgroupDriverMismatch: Rule = {
  cause: 'cgroup-driver-mismatch',
  depth: 2,
  codes: ['node.cgroup-driver/mismatch'],
  match(e) {
    const logs = linesMatching(e, PATTERNS);
    const mismatch = found(e, 'node.cgroup-driver/mismatch');
    if (mismatch) return { confidence: 'high', summary: mismatch.message, evidence: [...cite(mismatch), ...logs], fix: fixOf(mismatch), codes: mismatch.matched };
    return logs.length ? { confidence: 'high', summary: 'the kubelet and the runtime use different cgroup drivers', evidence: logs, fix: ['use one driver in /var/lib/kubelet/config.yaml (cgroupDriver) and /etc/containerd/config.toml (SystemdCgroup): systemd where systemd is the init system, else cgroupfs', 'restart containerd, then the kubelet'] } : null;
  },
};
