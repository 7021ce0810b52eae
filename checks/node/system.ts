import type { Finding, NodeCheck } from '../../src/core/types.js';
import { combine, fail, pass, unreadable, warn } from '../../src/core/findings.js';
import { SYS_SPEC } from '../../src/profiles/kubeadm-spec.js';
import { VERSION_PARAM, targetVersion } from './target-version.js';

export const system: NodeCheck = {
  kind: 'node',
  id: 'node.system',
  title: 'Kernel and cgroups pass kubeadm\'s system verification',
  area: 'node',
  codes: {
    'kernel-unsupported': 'the kernel release is not one kubeadm\'s SystemVerification accepts (4.19+, 5.x, 6.x…)',
    'kernel-config-missing': 'a kernel option the kubelet and runtime need is not built in or as a module',
    'kernel-config-unknown': 'no kernel config was found (/proc/config.gz, /boot/config-RELEASE…): kubeadm fails SystemVerification',
    'cgroups-missing': 'a required cgroup controller is not enabled (cpu, cpuacct, cpuset, devices, freezer, memory, pids)',
    'cgroups-optional-missing': 'an optional cgroup controller (hugetlb, blkio/io) is missing',
    'cgroup-v1': 'the host runs cgroup v1: in maintenance mode, and the kubelet refuses it from v1.35 unless failCgroupV1: false',
  },
  why:
    'kubeadm init/join run SystemVerification: an unsupported kernel, a missing kernel option (namespaces, ' +
    'cgroups, overlayfs, netfilter redirect/comment) or a missing cgroup controller stops them, and the kubelet ' +
    'cannot create pods without the controllers. cgroup v1 is in maintenance mode; kubelets from v1.35 refuse it by default.',
  remediation:
    'enable the missing controllers on the kernel command line (e.g. cgroup_enable=memory, systemd.unified_cgroup_hierarchy=1 for v2) and reboot; use a distribution kernel with the required options',
  params: { type: 'object', properties: { ...VERSION_PARAM }, additionalProperties: false },
  run(facts, ctx) {
    if (!facts.system.ok) return unreadable(facts.system, 'the cgroup and kernel facts');
    const s = facts.system.value;
    const target = targetVersion(facts, ctx);
    const evidence = { kernel: facts.kernel, cgroups: `cgroup ${s.cgroupVersion}; enabled: ${s.controllers.join(' ')}`, 'kernel config': s.kernelConfig ? s.kernelConfig.source : 'none found' };
    const problems: Finding[] = [];
    if (!SYS_SPEC.kernelVersions.some((r) => r.test(facts.kernel))) {
      problems.push(fail(`kernel ${facts.kernel} is not supported by kubeadm (4.19 or later, 5.x, 6.x)`, { evidence, code: 'kernel-unsupported' }));
    }
    if (!s.kernelConfig) {
      problems.push(fail('no kernel config found (/proc/config.gz, /boot/config-RELEASE, /usr/lib/modules/RELEASE/config…): kubeadm\'s SystemVerification fails', {
        evidence, code: 'kernel-config-unknown', remediation: 'modprobe configs   # exposes /proc/config.gz; or install the kernel\'s config file under /boot',
      }));
    } else {
      const values = s.kernelConfig.values;
      const missing = SYS_SPEC.kernelRequired.filter((names) => !names.some((n) => values[n] === 'y' || values[n] === 'm')).map((names) => `CONFIG_${names[0]}`);
      if (missing.length) problems.push(fail(`kernel options not set: ${missing.join(', ')} (${s.kernelConfig.source})`, { evidence, code: 'kernel-config-missing' }));
    }
    const [required, optional] = s.cgroupVersion === 'v2' ? [SYS_SPEC.cgroupsV2, SYS_SPEC.cgroupsV2Optional] : [SYS_SPEC.cgroupsV1, SYS_SPEC.cgroupsV1Optional];
    const missing = required.filter((c) => !s.controllers.includes(c));
    if (missing.length) problems.push(fail(`missing required cgroups: ${missing.join(' ')}`, { evidence, code: 'cgroups-missing' }));
    const missingOptional = optional.filter((c) => !s.controllers.includes(c));
    if (missingOptional.length) problems.push(warn(`missing optional cgroups: ${missingOptional.join(' ')}`, { evidence, code: 'cgroups-optional-missing' }));
    if (s.cgroupVersion === 'v1') {
      const refused = target.minor >= 35;
      const message = `cgroup v1: in maintenance mode${refused ? `; the kubelet of ${target.version} (${target.from}) refuses to start on it unless its config sets failCgroupV1: false` : ', and kubelets from v1.35 refuse it by default'}`;
      problems.push((refused ? fail : warn)(message, { evidence, code: 'cgroup-v1', remediation: 'boot with systemd.unified_cgroup_hierarchy=1 (cgroup v2); kernel 5.8+ recommended' }));
    }
    return combine(problems, pass(`kernel ${facts.kernel}, cgroup ${s.cgroupVersion} with ${required.join(', ')}, kernel options present`, { evidence }));
  },
};
