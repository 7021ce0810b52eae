import type { Finding, NodeCheck } from '../../src/core/types.js';
import { combine, pass, warn } from '../../src/core/findings.js';
import { IPVS_MODULES } from '../../src/profiles/kubeadm-spec.js';

/** What the kernel has at boot when no file sets a sysctl. */
/** What the kernel boots with when no file sets a key. */
const KERNEL_DEFAULTS = new Map([['net.ipv4.ip_forward', '0'], ['vm.swappiness', '60']]);
const RUNTIME_UNITS: Record<string, string> = { containerd: 'containerd', crio: 'crio', dockerd: 'docker', 'cri-dockerd': 'cri-docker' };

export const persisted: NodeCheck = {
  kind: 'node',
  id: 'node.persisted',
  title: 'What is set now is also set after a reboot',
  area: 'node',
  codes: {
    'sysctl-not-persisted': 'a sysctl is right now but no sysctl.d/sysctl.conf file sets it: it comes back wrong at reboot',
    'module-not-persisted': 'a module is loaded now but no modules-load.d file loads it at boot',
    'selinux-enforcing-at-boot': 'SELinux is off or permissive now but /etc/selinux/config turns it back to enforcing',
    'firewalld-enabled-at-boot': 'firewalld is stopped now but enabled at boot',
    'runtime-not-enabled': 'the container runtime runs now but is not enabled at boot',
  },
  why:
    'The install guides set ip_forward, br_netfilter, overlay, SELinux and firewalld by hand and then in files: ' +
    'a host fixed only live passes today and breaks the node at its next reboot (pods lose forwarding, the ' +
    'runtime does not start, firewalld is back).',
  remediation: [
    'cat <<EOF > /etc/modules-load.d/k8s.conf', 'overlay', 'br_netfilter', 'EOF',
    'cat <<EOF > /etc/sysctl.d/k8s.conf', 'net.ipv4.ip_forward = 1', 'net.bridge.bridge-nf-call-iptables = 1', 'net.bridge.bridge-nf-call-ip6tables = 1', 'EOF',
    'sed -i "s/^SELINUX=enforcing/SELINUX=permissive/" /etc/selinux/config', 'systemctl disable firewalld; systemctl enable containerd',
  ].join('\n'),
  params: {
    type: 'object',
    properties: { kubeProxyMode: { enum: ['iptables', 'ipvs', 'nftables'], description: 'ipvs: the IPVS modules must load at boot too' } },
    additionalProperties: false,
  },
  run(facts, ctx) {
    const p = facts.persisted;
    const evidence = { persisted: facts.raw.persist ?? '', live: Object.entries(facts.sysctls).map(([k, v]) => `${k}=${v ?? 'missing'}`).join('\n') };
    const problems: Finding[] = [];
    const brAtBoot = p.modules.some((m) => m.name === 'br_netfilter') || facts.builtinModules.includes('br_netfilter');
    for (const key of ['net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-ip6tables']) {
      if (facts.sysctls[key] !== '1') continue;
      const file = p.sysctls[key];
      // bridge-nf-call-* default to 1 when br_netfilter loads; without it at boot they do not exist.
      const boot = file?.value ?? (key.startsWith('net.bridge') ? (brAtBoot ? '1' : 'missing') : KERNEL_DEFAULTS.get(key));
      if (boot !== '1') {
        problems.push(warn(`${key} is 1 now but ${boot === 'missing' ? 'absent' : boot} after a reboot (${file ? `${file.file} sets ${file.value}` : 'no sysctl.d file sets it'}): it will come back at reboot`, {
          evidence, code: 'sysctl-not-persisted', remediation: `echo '${key} = 1' >> /etc/sysctl.d/k8s.conf`,
        }));
      }
    }
    if (facts.sysctls['vm.swappiness'] === '0' && (p.sysctls['vm.swappiness']?.value ?? KERNEL_DEFAULTS.get('vm.swappiness')) !== '0') {
      problems.push(warn(`vm.swappiness is 0 now but ${p.sysctls['vm.swappiness']?.value ?? '60 (the kernel default)'} after a reboot`, { evidence, code: 'sysctl-not-persisted', remediation: "echo 'vm.swappiness = 0' >> /etc/sysctl.d/k8s.conf" }));
    }
    const wanted = ['br_netfilter', 'overlay', ...(ctx.params.kubeProxyMode === 'ipvs' ? IPVS_MODULES : [])];
    const notAtBoot = wanted.filter((m) => facts.modules.includes(m) && !facts.builtinModules.includes(m) && !p.modules.some((x) => x.name === m));
    if (notAtBoot.length) {
      problems.push(warn(`${notAtBoot.join(', ')} ${notAtBoot.length === 1 ? 'is' : 'are'} loaded now but no modules-load.d file loads ${notAtBoot.length === 1 ? 'it' : 'them'} at boot: it will come back at reboot`, {
        evidence, code: 'module-not-persisted', remediation: `printf '%s\\n' ${notAtBoot.join(' ')} >> /etc/modules-load.d/k8s.conf`,
      }));
    }
    if (facts.selinux !== 'enforcing' && p.selinux?.mode === 'enforcing') {
      problems.push(warn(`SELinux is ${facts.selinux} now but ${p.selinux.file} sets SELINUX=enforcing: it will come back at reboot`, { evidence, code: 'selinux-enforcing-at-boot', remediation: `sed -i 's/^SELINUX=enforcing/SELINUX=permissive/' ${p.selinux.file}` }));
    }
    const firewalld = facts.processes.some((x) => x.comm === 'firewalld');
    if (!firewalld && facts.units.firewalld?.enabled) {
      problems.push(warn('firewalld is stopped now but enabled at boot: it will come back at reboot', { evidence, code: 'firewalld-enabled-at-boot', remediation: 'systemctl disable firewalld' }));
    }
    for (const [proc, unit] of Object.entries(RUNTIME_UNITS)) {
      if (facts.processes.some((x) => x.comm === proc) && facts.units[unit]?.file && !facts.units[unit].enabled) {
        problems.push(warn(`${proc} runs now but ${unit}.service is not enabled at boot`, { evidence, code: 'runtime-not-enabled', remediation: `systemctl enable ${unit}` }));
      }
    }
    return combine(problems, pass('what is set now (forwarding, br_netfilter, overlay, SELinux, firewalld, the runtime) is set at boot too', { evidence }));
  },
};
