import type { Finding, NodeCheck } from '../../src/core/types.js';
import { combine, fail, pass, unreadable, warn } from '../../src/core/findings.js';
import { optionalBinaries, requiredBinaries } from '../../src/profiles/kubeadm-spec.js';
import { VERSION_PARAM, targetVersion } from './target-version.js';

const PACKAGES: Record<string, string> = {
  losetup: 'util-linux', mount: 'mount (util-linux)', cp: 'coreutils', conntrack: 'conntrack', crictl: 'cri-tools', ip: 'iproute2',
  iptables: 'iptables', nsenter: 'util-linux', ebtables: 'ebtables', ethtool: 'ethtool', socat: 'socat', tc: 'iproute2', touch: 'coreutils',
};

export const binaries: NodeCheck = {
  kind: 'node',
  id: 'node.binaries',
  title: 'The executables kubeadm and the kubelet need are installed',
  area: 'node',
  codes: {
    'missing-required': 'an executable kubeadm\'s preflight requires for this version is not in PATH',
    'missing-recommended': 'an executable the node uses (iptables for hostPorts, or one kubeadm warns about) is not in PATH',
  },
  why:
    'kubeadm init/join stop when an executable they require is not in PATH (v1.33: losetup, mount, cp; ' +
    'conntrack before 1.32; crictl, ip, iptables, nsenter before 1.31), and the kubelet needs mount and losetup for volumes.',
  remediation: 'apt-get install -y util-linux mount coreutils conntrack iptables   # or the dnf/yum equivalents',
  params: { type: 'object', properties: { ...VERSION_PARAM }, additionalProperties: false },
  run(facts, ctx) {
    if (!facts.binaries.ok) return unreadable(facts.binaries, 'the PATH lookups');
    const found = facts.binaries.value;
    const target = targetVersion(facts, ctx);
    const evidence = { PATH: Object.entries(found).map(([b, p]) => `${b}: ${p ?? 'not found'}`).join('\n'), version: `${target.version} (${target.from})` };
    const required = requiredBinaries(target.minor);
    const missing = required.filter((b) => found[b] === null);
    const recommended = [...new Set([...optionalBinaries(target.minor), 'iptables'])].filter((b) => !required.includes(b) && found[b] === null);
    const install = (bs: string[]) => `apt-get install -y ${[...new Set(bs.map((b) => (PACKAGES[b] ?? b).split(' ')[0]))].join(' ')}`;
    const problems: Finding[] = [];
    if (missing.length) problems.push(fail(`not in PATH: ${missing.join(', ')} (kubeadm ${target.version} requires ${required.join(', ')})`, { evidence, code: 'missing-required', remediation: install(missing) }));
    if (recommended.length) {
      problems.push(warn(`not in PATH: ${recommended.join(', ')}${recommended.includes('iptables') ? ' (iptables: the CNI portmap plugin runs it for hostPorts)' : ''}`, { evidence, code: 'missing-recommended', remediation: install(recommended) }));
    }
    return combine(problems, pass(`${required.join(', ')} found (what kubeadm ${target.version} requires)`, { evidence }));
  },
};
