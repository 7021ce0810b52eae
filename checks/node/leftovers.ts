import type { Finding, NodeCheck } from '../../src/core/types.js';
import { combine, fail, pass, skip, warn } from '../../src/core/findings.js';
import { LEFTOVERS } from '../../src/profiles/kubeadm-spec.js';

const RESET = [
  'kubeadm reset -f',
  'rm -rf /var/lib/cni /var/lib/etcd $HOME/.kube/config   # and /etc/cni/net.d when the CNI changes',
  'iptables -F && iptables -t nat -F && iptables -t mangle -F && iptables -X',
  'ipvsadm --clear 2>/dev/null; ip link delete kube-ipvs0 2>/dev/null; true',
].join('\n');

export const leftovers: NodeCheck = {
  kind: 'node',
  id: 'node.leftovers',
  title: 'Nothing is left from an earlier install (before kubeadm init/join)',
  area: 'node',
  codes: {
    manifests: 'static pod manifests are already in /etc/kubernetes/manifests (kubeadm init refuses: FileAvailable)',
    kubeconfigs: 'kubelet.conf, bootstrap-kubelet.conf or pki/ca.crt already exist (kubeadm join refuses: FileAvailable)',
    'etcd-data': '/var/lib/etcd is not empty (kubeadm init refuses: DirAvailable)',
    'earlier-install': 'files of an earlier install (admin.conf, the kubelet\'s config, k3s.yaml) are still there',
    'cni-state': 'IPAM reservations (/var/lib/cni) or k3s data of an earlier cluster are still there',
    'kube-chains': 'KUBE-* iptables chains from an earlier kube-proxy are still there',
    links: 'kube-proxy or CNI interfaces from an earlier cluster are still there (kube-ipvs0, cali0, tunl0, weave)',
  },
  why:
    'kubeadm init and join stop on an earlier install\'s files ("already exists", "/var/lib/etcd is not empty"), ' +
    'and what they do not check — old CNI configs, IPAM reservations, KUBE-* chains — makes the new cluster ' +
    'route or address pods wrongly. cni0 and flannel.1 are judged by cni.cni0.',
  remediation: RESET,
  run(facts, ctx) {
    if (ctx.phase !== 'pre') return skip('post-install: an install\'s files are expected', { code: 'not-applicable' });
    const l = facts.leftovers;
    const evidence = { leftovers: facts.raw.leftovers ?? '' };
    const has = (files: readonly string[]) => l.files.filter((f) => files.includes(f));
    const problems: Finding[] = [];
    const manifests = has(LEFTOVERS.initFiles);
    if (manifests.length) problems.push(fail(`${manifests.join(', ')} already exist${manifests.length === 1 ? 's' : ''}`, { evidence, code: 'manifests' }));
    const kubeconfigs = has(LEFTOVERS.joinFiles);
    if (kubeconfigs.length) problems.push(fail(`${kubeconfigs.join(', ')} already exist${kubeconfigs.length === 1 ? 's' : ''}`, { evidence, code: 'kubeconfigs' }));
    if (l.nonEmptyDirs.includes(LEFTOVERS.etcdDir)) {
      const etcdHost = ctx.roles.length === 0 || ctx.roles.includes('control-plane') || ctx.roles.includes('etcd');
      problems.push((etcdHost ? fail : warn)(`${LEFTOVERS.etcdDir} is not empty`, { evidence, code: 'etcd-data' }));
    }
    const others = has(LEFTOVERS.otherFiles);
    if (others.length) problems.push(warn(`left from an earlier install: ${others.join(', ')}`, { evidence, code: 'earlier-install' }));
    const cni = l.nonEmptyDirs.filter((d) => d !== LEFTOVERS.etcdDir);
    if (cni.length) problems.push(warn(`not empty: ${cni.join(', ')} (IPAM reservations or data of an earlier cluster)`, { evidence, code: 'cni-state', remediation: `rm -rf ${cni.join(' ')}` }));
    if (l.kubeChains) problems.push(warn(`${l.kubeChains} KUBE-* iptables chains from an earlier kube-proxy`, { evidence, code: 'kube-chains', remediation: 'iptables -F && iptables -t nat -F && iptables -t mangle -F && iptables -X' }));
    const links = l.links.filter((x) => x !== 'cni0' && x !== 'flannel.1');
    if (links.length) problems.push(warn(`interfaces of an earlier cluster: ${links.join(', ')}`, { evidence, code: 'links', remediation: links.map((x) => `ip link delete ${x}`).join('\n') }));
    return combine(problems, pass(`no earlier install${l.kubeChains === null ? ' (iptables not read)' : ''}`, { evidence }));
  },
};
