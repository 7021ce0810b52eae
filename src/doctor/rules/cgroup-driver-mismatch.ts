import type { Rule } from '../evidence.js';
import { linesMatching } from '../evidence.js';

export const cgroupDriverMismatch: Rule = {
  cause: 'cgroup-driver-mismatch',
  depth: 2,
  match(e) {
    const logs = linesMatching(e, ['misconfiguration: kubelet cgroup driver', /cgroup driver: .* is different from/]);
    const d = e.host?.facts.cgroupDrivers;
    const fix = ["make both systemd: set cgroupDriver: systemd in /var/lib/kubelet/config.yaml and SystemdCgroup = true in /etc/containerd/config.toml", 'systemctl restart containerd kubelet'];
    if (d?.kubelet && d.containerd && d.kubelet !== d.containerd) {
      return { confidence: 'high', summary: `the kubelet uses the ${d.kubelet} cgroup driver, containerd ${d.containerd}`, evidence: [`kubelet cgroupDriver=${d.kubelet}`, `containerd SystemdCgroup → ${d.containerd}`, ...logs], fix };
    }
    return logs.length ? { confidence: 'high', summary: 'misconfiguration: kubelet cgroup driver differs from the runtime\'s', evidence: logs, fix } : null;
  },
};
