import type { Finding, NodeCheck } from '../../src/core/types.js';
import { combine, error, fail, pass } from '../../src/core/findings.js';

const CODE_OF: Record<string, string> = {
  'net.ipv4.ip_forward': 'ip-forward-off',
  'net.ipv6.conf.all.forwarding': 'ipv6-forward-off',
  'net.bridge.bridge-nf-call-iptables': 'bridge-nf-off',
  'net.bridge.bridge-nf-call-ip6tables': 'bridge-nf-off',
};

const PERSIST_SYSCTL = (key: string) =>
  `echo '${key} = 1' >> /etc/sysctl.d/k8s.conf && sysctl --system`;
const LOAD_BR_NETFILTER =
  'modprobe br_netfilter && echo br_netfilter > /etc/modules-load.d/k8s.conf';

export const sysctl: NodeCheck = {
  kind: 'node',
  id: 'node.sysctl',
  title: 'IP forwarding and bridge netfilter are on',
  area: 'node',
  codes: {
    'ip-forward-off': 'net.ipv4.ip_forward is not 1: the host does not forward pod traffic',
    'ipv6-forward-off': 'net.ipv6.conf.all.forwarding is not 1 (asked for with ipv6: true)',
    'bridge-nf-off': 'net.bridge.bridge-nf-call-iptables (or ip6tables) is not 1: bridged pod traffic skips iptables',
    'br-netfilter-missing': 'the br_netfilter module is not loaded (no net.bridge.* sysctls)',
    'off': 'a required sysctl is not 1',
  },
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
      if (value === undefined) problems.push(error(`${key} was not read`, { evidence, code: 'unreadable' }));
      else if (value !== '1') problems.push(fail(`${key} is ${value}, must be 1`, { evidence, remediation: PERSIST_SYSCTL(key), code: CODE_OF[key] ?? 'off' }));
    };
    expectOne('net.ipv4.ip_forward');
    if (ctx.params.ipv6 === true) expectOne('net.ipv6.conf.all.forwarding');
    const brMissing = s['net.bridge.bridge-nf-call-iptables'] === null;
    if (brMissing) {
      problems.push(fail('br_netfilter is not loaded (net.bridge.bridge-nf-call-iptables does not exist)', {
        evidence,
        remediation: `${LOAD_BR_NETFILTER}\n${PERSIST_SYSCTL('net.bridge.bridge-nf-call-iptables')}`,
        code: 'br-netfilter-missing',
      }));
    } else {
      expectOne('net.bridge.bridge-nf-call-iptables');
      if (s['net.bridge.bridge-nf-call-ip6tables'] !== null) expectOne('net.bridge.bridge-nf-call-ip6tables');
    }
    return combine(problems, pass('ip_forward=1, br_netfilter loaded, bridge-nf-call-iptables=1', { evidence }));
  },
};
