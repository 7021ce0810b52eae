import type { NodeCheck } from '../../src/core/types.js';
import { fail, pass, warn } from '../../src/core/findings.js';
import { restartCommand } from './restart.js';
import { PROFILES, profileNamed } from '../../src/profiles/profiles.js';

export const runtime: NodeCheck = {
  kind: 'node',
  id: 'node.runtime',
  title: 'A container runtime answers on its CRI socket',
  area: 'node',
  codes: {
    'no-runtime': 'no container runtime installed: no CRI socket',
    'not-running': 'a runtime is installed but not running: no CRI socket',
    'not-answering': 'a CRI socket exists but nothing answers on it (stopped runtime, stale socket)',
    'several-runtimes': 'more than one runtime answers: kubeadm needs --cri-socket',
  },
  why:
    'The kubelet runs every pod through the CRI socket (containerd, CRI-O or cri-dockerd). With no runtime ' +
    'answering, kubeadm preflight fails and a running node goes NotReady ("container runtime is down").',
  remediation: 'apt-get install -y containerd && containerd config default > /etc/containerd/config.toml && systemctl enable --now containerd',
  run(facts) {
    const evidence = { crisock: facts.raw.crisock ?? '', processes: facts.processes.map((p) => `${p.pid} ${p.comm}`).join('\n') };
    // Only the sockets where this install's kubelet looks (k3s uses its own containerd's).
    const profile = profileNamed(facts.profile.name) ?? PROFILES.kubeadm;
    const sockets = facts.runtimeSockets.filter((s) => profile.runtime.sockets.includes(s.path));
    if (sockets.length === 0) {
      const installed = facts.runtimesInstalled;
      if (installed.length) {
        return fail(`no CRI socket found: ${installed.join(', ')} is installed but not running`, { evidence, remediation: restartCommand(facts, installed[0]), code: 'not-running' });
      }
      return fail('no CRI socket found (containerd, CRI-O, cri-dockerd)', { evidence, code: 'no-runtime' });
    }
    const answering = sockets.filter((s) => s.listening);
    if (answering.length === 0) {
      const paths = sockets.map((s) => `${s.path}${s.problem ? ` (${s.problem})` : ''}`).join(', ');
      return fail(`CRI socket ${paths} exists but nothing answers the CRI on it (runtime stopped, stale socket)`, {
        evidence,
        remediation: restartCommand(facts, sockets.some((s) => s.path.includes('crio')) ? 'crio' : 'containerd'),
        code: 'not-answering',
      });
    }
    const names = answering.map((s) => `${s.path}${s.answer ? ` (${s.answer})` : ''}`).join(', ');
    if (answering.length > 1) {
      return warn(`several runtimes answer: ${names}; kubeadm needs --cri-socket to pick one`, {
        evidence,
        remediation: `kubeadm init --cri-socket unix://${answering[0].path}   # or stop the runtime you do not use`,
        code: 'several-runtimes',
      });
    }
    return pass(`runtime answers on ${names}`, { evidence });
  },
};
