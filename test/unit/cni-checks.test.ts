import { describe, expect, it } from 'vitest';
import { cni0 } from '../../checks/cni/cni0.js';
import { config } from '../../checks/cni/config.js';
import { flannelDaemonset } from '../../checks/cni/flannel-daemonset.js';
import { flannelPlugin } from '../../checks/cni/flannel-plugin.js';
import { flannelSubnet } from '../../checks/cni/flannel-subnet.js';
import { flannelVxlan } from '../../checks/cni/flannel-vxlan.js';
import { cidrContains, parseCidr, parseIp, sameSubnet } from '../../src/core/cidr.js';
import { known } from '../../src/core/facts.js';
import { parseNodeFacts } from '../../src/collectors/node/index.js';
import type { Finding } from '../../src/core/types.js';
import { factsFrom, fixture, hostCtx, withSections } from '../helpers.js';
import { RECORDED_AT, recordedSnapshot } from './cluster-snapshot.js';

const healthy = factsFrom('cp1-post-healthy.txt');
const post = (over = {}) => hostCtx({ phase: 'post', host: 'cp1', ...over });
const patched = (replace: Record<string, [string, number]>) => parseNodeFacts(withSections(fixture('collector/cp1-post-healthy.txt'), replace));

describe('cidr', () => {
  it('parses and compares IPv4 and IPv6 networks', () => {
    const net = parseCidr('10.244.0.0/16')!;
    expect(cidrContains(net, parseCidr('10.244.3.1/24')!)).toBe(true);
    expect(cidrContains(net, parseCidr('10.245.0.0/24')!)).toBe(false);
    expect(cidrContains(parseCidr('10.244.3.1/24')!, parseIp('10.244.3.77')!)).toBe(true);
    expect(sameSubnet(parseCidr('10.244.3.1/24')!, parseCidr('10.244.3.0/24')!)).toBe(true);
    expect(cidrContains(parseCidr('fd00:10:244::/56')!, parseCidr('fd00:10:244:3::/64')!)).toBe(true);
    expect(parseCidr('10.0.0.300/8')).toBeNull();
    expect(parseCidr('garbage')).toBeNull();
  });
});

describe('cni.flannel-plugin', () => {
  it('passes with all plugins executable', () => {
    expect(flannelPlugin.run(healthy, post()).status).toBe('pass');
  });
  it('fails when flannel is missing, with the error the kubelet logs and the fix command', () => {
    const f = flannelPlugin.run(patched({ cnibin: ['x bridge\nx host-local\nx loopback\nx portmap', 0] }), post());
    expect(f).toMatchObject({ status: 'fail', message: 'missing in /opt/cni/bin: flannel (failed to find plugin "flannel" in path [/opt/cni/bin])' });
    expect(f.remediation).toBe('kubecheck fix flannel-plugin --node cp1 --from DIR_WITH_PLUGINS');
  });
  it('fails a plugin that is not executable', () => {
    const f = flannelPlugin.run(patched({ cnibin: ['- flannel\nx bridge\nx host-local\nx loopback\nx portmap', 0] }), post());
    expect(f).toMatchObject({ status: 'fail', message: 'not executable: /opt/cni/bin/flannel' });
  });
  it('before install, needs only the base plugins', () => {
    expect(flannelPlugin.run(patched({ cnibin: ['x bridge\nx host-local\nx loopback\nx portmap', 0] }), hostCtx()).status).toBe('pass');
    expect(flannelPlugin.run(factsFrom('w1-pre-problems.txt'), hostCtx()).message).toMatch(/^\/opt\/cni\/bin does not exist/);
  });
});

describe('cni.config', () => {
  it('passes with the flannel conflist first', () => {
    expect(config.run(healthy, post())).toMatchObject({ status: 'pass', message: '10-flannel.conflist (flannel → portmap)' });
  });
  it('fails with no networks after install, passes before', () => {
    const empty = patched({ cninet: ['', 0] });
    expect(config.run(empty, post())).toMatchObject({ status: 'fail', code: 'missing', message: 'no networks found in /etc/cni/net.d: cni config uninitialized (the runtime reports "cni plugin not initialized")' });
    expect(config.run(empty, hostCtx()).status).toBe('pass');
  });
  it('fails when a leftover config sorts first, and names unparsable files', () => {
    const leftover = patched({ cninet: ['==> 05-calico.conflist\n{"name":"k8s-pod-network","plugins":[{"type":"calico"}]}\n==> 10-flannel.conflist\n{"name":"cbr0","plugins":[{"type":"flannel"}]}', 0] });
    expect(config.run(leftover, post()).message).toBe('the runtime uses 05-calico.conflist (calico), not a flannel config: remove the leftover file');
    const broken = patched({ cninet: ['==> 10-flannel.conflist\n{"name": "cbr0", "plugins": [', 0] });
    expect(config.run(broken, post()).message).toBe('no valid CNI config in /etc/cni/net.d (not parsable: 10-flannel.conflist)');
  });
});

describe('cni.flannel-subnet', () => {
  it('fails with the kubelet error when subnet.env is missing after install', () => {
    const f = flannelSubnet.run(patched({ subnetenv: ['/run/flannel/subnet.env: No such file or directory', 1] }), post());
    expect(f.message).toMatch(/^open \/run\/flannel\/subnet.env: no such file or directory/);
  });
  it('checks FLANNEL_SUBNET against the node podCIDR when the cluster is known, else against FLANNEL_NETWORK', () => {
    expect(flannelSubnet.run(healthy, post({ podCIDRs: ['10.244.0.0/24'] })).status).toBe('pass');
    expect(flannelSubnet.run(healthy, post({ podCIDRs: ['10.244.5.0/24'] })).message).toBe("FLANNEL_SUBNET 10.244.0.1/24 is not this node's podCIDR (10.244.5.0/24): a stale subnet.env from an earlier join");
    const outside = patched({ subnetenv: ['FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.99.0.1/24', 0] });
    expect(flannelSubnet.run(outside, post()).message).toBe('FLANNEL_SUBNET 10.99.0.1/24 is outside FLANNEL_NETWORK 10.244.0.0/16');
  });
});

describe('cni.cni0', () => {
  const withCni0 = (addr: string) => {
    const f = patched({});
    if (!f.links.ok) throw new Error('fixture');
    f.links.value.find((l) => l.name === 'cni0')!.addresses = [{ family: 'inet', address: addr, prefix: 24 }];
    return f;
  };
  it('passes when cni0 is inside the flannel subnet', () => {
    expect(cni0.run(healthy, post()).status).toBe('pass');
  });
  it('fails a stale cni0 with the message operators see and the fix command', () => {
    const f = cni0.run(withCni0('10.244.9.1'), post());
    expect(f.message).toBe("cni0 has 10.244.9.1/24 but this node's flannel subnet is 10.244.0.1/24: cni0 already has an IP address different from 10.244.0.1/24");
    expect(f.remediation).toBe('kubecheck fix cni0 --node cp1 --apply');
    expect(f.code).toBe('stale-address');
  });
  it('before joining, fails on leftover cni0 and flannel.1', () => {
    expect(cni0.run(healthy, hostCtx({ host: 'cp1' })).message).toBe('leftover cni0 and flannel.1 from an earlier cluster: after joining, the new subnet will clash with it');
  });
});

describe('cni.flannel-vxlan', () => {
  it('passes with flannel.1 up and 8472 bound; fails without the link', () => {
    expect(flannelVxlan.run(healthy, post()).status).toBe('pass');
    const f = patched({});
    if (f.links.ok) f.links.value = f.links.value.filter((l) => l.name !== 'flannel.1');
    expect(flannelVxlan.run(f, post()).message).toMatch(/^no flannel.1 link/);
  });
});

describe('cni.flannel-daemonset', () => {
  const one = (f: Finding | Map<string, Finding>) => f as Finding;
  it('passes on the recorded cluster', () => {
    expect(one(flannelDaemonset.run(recordedSnapshot(), { params: {}, now: RECORDED_AT }))).toMatchObject({ status: 'pass' });
  });
  it('fails when a flannel pod is not ready on a node, naming the node', () => {
    const s = recordedSnapshot();
    if (!s.systemPods.ok || !s.daemonSets.ok) throw new Error('fixture');
    const pod = s.systemPods.items.find((p) => p.labels.app === 'flannel' && p.node === 'kw2')!;
    pod.ready = false;
    pod.containers = pod.containers.map((c) => ({ ...c, ready: false, waiting: { reason: 'CrashLoopBackOff' }, restarts: 4 }));
    s.daemonSets.items.find((d) => d.name === 'kube-flannel-ds')!.ready = 1;
    const f = one(flannelDaemonset.run(s, { params: {}, now: RECORDED_AT }));
    expect(f.status).toBe('fail');
    expect(f.message).toMatch(/^kube-flannel ready on 1 of 2 nodes; not ready on kw2 \(kube-flannel-ds-\w+: container kube-flannel-ds CrashLoopBackOff, 4 restarts\)/);
  });
  it('fails when net-conf Network differs from the pod CIDR, and when a node has no podCIDR', () => {
    const s = { ...recordedSnapshot(), flannelNetConf: known({ network: '10.10.0.0/16', backend: 'vxlan', raw: '{"Network":"10.10.0.0/16"}' }) };
    if (s.nodes.ok) s.nodes.items[1].podCIDRs = [];
    const f = one(flannelDaemonset.run(s, { params: {}, now: RECORDED_AT }));
    expect(f.message).toBe("node without a podCIDR: kw2 (the controller-manager needs --allocate-node-cidrs=true and --cluster-cidr); flannel's net-conf.json Network 10.10.0.0/16 differs from the cluster pod CIDR 10.244.0.0/16 (kubeadm-config podSubnet)");
  });
});
