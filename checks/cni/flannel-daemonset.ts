import type { ClusterCheck, Finding } from '../../src/core/types.js';
import { combine, fail, listFailure, pass, skip, warn } from '../../src/core/findings.js';
import { notADaemonSet } from '../cluster/runs-as.js';
import { cidrContains, parseCidr, sameSubnet } from '../../src/core/cidr.js';
import { podProblems } from '../cluster/pods.js';

export const flannelDaemonset: ClusterCheck = {
  kind: 'cluster',
  id: 'cni.flannel-daemonset',
  title: 'kube-flannel is ready on every node, nodes have podCIDRs, and net-conf matches the cluster pod CIDR',
  area: 'cni',
  codes: {
    'not-flannel': 'the cluster runs another CNI: flannel\'s DaemonSet does not apply',
    'missing': 'no kube-flannel DaemonSet: flannel is not installed',
    'not-ready': 'kube-flannel is not ready on every node',
    'mixed-images': 'kube-flannel pods run different images',
    'no-podcidr': 'a node has no podCIDR (controller-manager without --allocate-node-cidrs)',
    'network-mismatch': "net-conf.json Network differs from the cluster's pod CIDR",
    'podcidr-outside-network': "a node's podCIDR is outside net-conf.json Network",
    'netconf-unreadable': 'the kube-flannel-cfg ConfigMap cannot be read',
  },
  why:
    'flanneld runs on every node from the kube-flannel DaemonSet and takes the node\'s podCIDR as its subnet; ' +
    'a node without a podCIDR (controller-manager without --allocate-node-cidrs) or a net-conf.json Network ' +
    'different from the cluster\'s pod CIDR (kubeadm --pod-network-cidr) leaves pods without a network.',
  remediation: 'kubectl -n kube-flannel get ds,pods -o wide; kubectl -n kube-flannel logs -l app=flannel --tail 50',
  run(s, ctx) {
    const cni = s.profile?.cni ?? 'unknown';
    if (cni !== 'flannel' && cni !== 'unknown') return skip(`not flannel: this cluster runs ${cni}; these checks do not apply`, { code: 'not-flannel' });
    const elsewhere = notADaemonSet(s, 'flannel');
    if (elsewhere) return elsewhere;
    if (!s.daemonSets.ok) return listFailure(s.daemonSets, 'list daemonsets in kube-flannel and kube-system');
    const ds = s.daemonSets.items.find((d) => d.labels.app === 'flannel' || d.name.startsWith('kube-flannel'));
    if (!ds) return fail('no kube-flannel DaemonSet (in kube-flannel or kube-system): flannel is not installed', { remediation: 'kubectl apply -f https://github.com/flannel-io/flannel/releases/latest/download/kube-flannel.yml', code: 'missing' });
    const problems: Finding[] = [];
    const evidence: Record<string, string> = { daemonset: `${ds.namespace}/${ds.name} desired=${ds.desired} ready=${ds.ready} images=${ds.images.join(',')}` };
    const pods = s.systemPods.ok ? s.systemPods.items.filter((p) => p.namespace === ds.namespace && (p.labels.app === 'flannel' || p.owner?.name === ds.name)) : [];
    const notReady = pods.filter((p) => !p.ready && !p.deleting);
    if (ds.ready < ds.desired || notReady.length) {
      const detail = notReady.map((p) => {
        const why = podProblems(p, ctx.now, { pendingSeconds: 0 })[0]?.text.replace(/^\S+ on \S+: /, '') ?? p.phase;
        return `${p.node ?? '?'} (${p.name}: ${why})`;
      });
      problems.push(fail(`kube-flannel ready on ${ds.ready} of ${ds.desired} nodes${detail.length ? `; not ready on ${detail.join(', ')}` : ''}`, { code: 'not-ready' }));
    }
    const images = new Set(pods.flatMap((p) => p.containers.map((c) => c.image)).filter((i) => i.includes('flannel') && !i.includes('cni-plugin')));
    if (images.size > 1) problems.push(warn(`kube-flannel pods run different images: ${[...images].join(', ')} (a rollout in progress, or a stuck one)`, { code: 'mixed-images' }));

    if (!s.nodes.ok) problems.push(listFailure(s.nodes, 'list nodes'));
    else {
      const without = s.nodes.items.filter((n) => n.podCIDRs.length === 0).map((n) => n.name);
      if (without.length) {
        problems.push(fail(`node${without.length === 1 ? '' : 's'} without a podCIDR: ${without.join(', ')} (the controller-manager needs --allocate-node-cidrs=true and --cluster-cidr)`, { code: 'no-podcidr' }));
      }
    }
    if (s.flannelNetConf.ok && s.flannelNetConf.value.network) {
      const network = parseCidr(s.flannelNetConf.value.network);
      evidence['net-conf.json'] = s.flannelNetConf.value.raw;
      const subnet = s.kubeadmPodSubnet.ok ? s.kubeadmPodSubnet.value.split(',').map((x) => parseCidr(x)).find((c) => c && network && c.family === network.family) : undefined;
      if (subnet && network && !sameSubnet(subnet, network)) {
        evidence['kubeadm podSubnet'] = s.kubeadmPodSubnet.ok ? s.kubeadmPodSubnet.value : '';
        problems.push(fail(`flannel's net-conf.json Network ${s.flannelNetConf.value.network} differs from the cluster pod CIDR ${subnet.text} (kubeadm-config podSubnet)`, {
          remediation: `kubectl -n kube-flannel edit cm kube-flannel-cfg   # set "Network": "${subnet.text}", then restart the kube-flannel pods`,
          code: 'network-mismatch',
        }));
      } else if (!subnet && network && s.nodes.ok) {
        const outside = s.nodes.items.filter((n) => n.podCIDRs.some((c) => {
          const cidr = parseCidr(c);
          return cidr && cidr.family === network.family && !cidrContains(network, cidr);
        }));
        if (outside.length) {
          problems.push(fail(`flannel's net-conf.json Network ${s.flannelNetConf.value.network} does not contain the podCIDRs of ${outside.map((n) => `${n.name} (${n.podCIDRs.join(',')})`).join(', ')}`, { code: 'podcidr-outside-network' }));
        }
      }
    } else if (!s.flannelNetConf.ok && s.flannelNetConf.reason !== 'missing') {
      problems.push(warn(`cannot read kube-flannel-cfg: ${s.flannelNetConf.detail}`, { code: 'netconf-unreadable' }));
    }
    return combine(problems.map((p) => ({ ...p, evidence })), pass(`kube-flannel ready on ${ds.ready} of ${ds.desired} nodes; every node has a podCIDR; Network ${s.flannelNetConf.ok ? s.flannelNetConf.value.network : '?'} matches`, { evidence }));
  },
};
