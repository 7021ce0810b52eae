import type { Finding, NodeCheck } from '../../src/core/types.js';
import { combine, fail, pass } from '../../src/core/findings.js';

const PERSIST_SYSCTL = (key: string) =>
  `echo '${key} = 1' >> /etc/sysctl.d/k8s.conf && sysctl --system`;
const LOAD_BR_NETFILTER =
  'modprobe br_netfilter && echo br_netfilter > /etc/modules-load.d/k8s.conf';

export const sysctl: NodeCheck = {
  kind: 'node',
  id: 'node.sysctl',
  title: 'IP forwarding and bridge netfilter are on',
  area: 'node',
  why:
    'Pods reach other nodes and Services only if the host forwards packets (net.ipv4.ip_forward=1) and ' +
    'bridged pod traffic passes through iptables (br_netfilter with net.bridge.bridge-nf-call-iptables=1), ' +
    'where kube-proxy and flannel put their rules. kubeadm preflight fails without them.',
  remediation: [LOAD_BR_NETFILTER, 'cat <<EOF > /etc/sysctl.d/k8s.conf', 'net.ipv4.ip_forward = 1',
    'net.bridge.bridge-nf-call-iptables = 1', 'net.bridge.bridge-nf-call-ip6tables = 1', 'EOF', 'sysctl --system'].join('\n'),
  params: {
    type: 'object',
    properties: { ipv6: { type: 'boolean', description: 'also require net.ipv6.conf.all.forwarding=1 (dual-stack)' } },
    additionalProperties: false,
  },
  run(facts, ctx) {
    const s = facts.sysctls;
    const evidence = { sysctls: facts.raw.sysctls ?? '' };
    const problems: Finding[] = [];
    const expectOne = (key: string) => {
      const value = s[key];
      if (value === undefined) problems.push(fail(`${key} was not read`, { evidence }));
      else if (value !== '1') problems.push(fail(`${key} is ${value}, must be 1`, { evidence, remediation: PERSIST_SYSCTL(key) }));
    };
    expectOne('net.ipv4.ip_forward');
    if (ctx.params.ipv6 === true) expectOne('net.ipv6.conf.all.forwarding');
    const brMissing = s['net.bridge.bridge-nf-call-iptables'] === null;
    if (brMissing) {
      problems.push(fail('br_netfilter is not loaded (net.bridge.bridge-nf-call-iptables does not exist)', {
        evidence,
        remediation: `${LOAD_BR_NETFILTER}\n${PERSIST_SYSCTL('net.bridge.bridge-nf-call-iptables')}`,
      }));
    } else {
      expectOne('net.bridge.bridge-nf-call-iptables');
      if (s['net.bridge.bridge-nf-call-ip6tables'] !== null) expectOne('net.bridge.bridge-nf-call-ip6tables');
    }
    return combine(problems, pass('ip_forward=1, br_netfilter loaded, bridge-nf-call-iptables=1', { evidence }));
  },
};
