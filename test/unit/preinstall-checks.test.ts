// The pre-install checks (kubeadm's preflight and the install guides' host prerequisites) on a collector
// output recorded on one of these machines before anything was installed (Debian 12, cgroup v1, no kubelet),
// and on that output with one section changed to the fault each test names.
import { describe, expect, it } from 'vitest';
import { binaries } from '../../checks/node/binaries.js';
import { cgroupDriver } from '../../checks/node/cgroup-driver.js';
import { disk } from '../../checks/node/disk.js';
import { hostname } from '../../checks/node/hostname.js';
import { kubelet } from '../../checks/node/kubelet.js';
import { leftovers } from '../../checks/node/leftovers.js';
import { persisted } from '../../checks/node/persisted.js';
import { proxy } from '../../checks/node/proxy.js';
import { registry } from '../../checks/node/registry.js';
import { runtime } from '../../checks/node/runtime.js';
import { system } from '../../checks/node/system.js';
import { timeSync } from '../../checks/node/time-sync.js';
import { nodeIp } from '../../checks/fleet/node-ip.js';
import { reachability } from '../../checks/fleet/reachability.js';
import { parseNodeFacts } from '../../src/collectors/node/index.js';
import type { NodeFacts } from '../../src/core/facts.js';
import { factsFrom, fixture, fleetCtx, hostCtx, sectionOf, withSections } from '../helpers.js';

const RECORDED = 'collector/machine-debian12-pre.txt';
const bare = factsFrom('machine-debian12-pre.txt');
/** One section of the recorded output, to change into a fault. */
const recorded = (name: string) => sectionOf('machine-debian12-pre.txt', name);
const variant = (replace: Record<string, [string, number]>) => parseNodeFacts(withSections(fixture(RECORDED), replace));
const binariesWith = (over: Record<string, string>) => {
  const lines = recorded('binaries').split('\n').filter(Boolean).map((l) => {
    const [name] = l.split(' ');
    return name in over ? `${name} ${over[name]}` : l;
  });
  return lines.join('\n');
};

describe('the recorded pre-install host', () => {
  it('is parsed: binaries found and missing, default route, cgroup v1 controllers, the kernel config', () => {
    expect(bare.binaries).toMatchObject({ ok: true, value: { losetup: '/usr/sbin/losetup', ethtool: null, kubelet: null } });
    expect(bare.defaultRoutes).toMatchObject({ ok: true, value: [{ family: 'inet', dev: 'eth0', gateway: '192.0.2.1' }, { family: 'inet6', dev: 'eth0' }] });
    expect(bare.hostnameAddresses).toEqual({ ok: true, value: ['127.0.0.1'] });
    expect(bare.builtinModules).toEqual(['br_netfilter', 'overlay', 'nf_conntrack']);
    expect(bare.system.ok && bare.system.value.cgroupVersion).toBe('v1');
  });
});

describe('node.kubelet before install (kubeadm KubeletVersion, Service-Kubelet)', () => {
  it('fails when no kubelet is in PATH', () => {
    expect(kubelet.run(bare, hostCtx())).toMatchObject({ status: 'fail', code: 'not-installed' });
  });
  it('cannot judge output of a collector that did not look up binaries (error, never pass)', () => {
    expect(kubelet.run(factsFrom('w1-pre-problems.txt'), hostCtx())).toMatchObject({ status: 'error', code: 'unreadable' });
  });
  const installed = (version: string, unit: string) => variant({
    binaries: [binariesWith({ kubelet: '/usr/bin/kubelet', kubeadm: '/usr/bin/kubeadm' }), 0],
    versions: [`kubelet Kubernetes ${version}\nkubeadm v1.33.13`, 0],
    units: [unit, 0],
  });
  it('checks the skew against kubeadm\'s version: three minors back at most, never newer', () => {
    const enabled = 'kubelet /lib/systemd/system/kubelet.service yes';
    expect(kubelet.run(installed('v1.33.13', enabled), hostCtx()).status).toBe('pass');
    expect(kubelet.run(installed('v1.30.2', enabled), hostCtx()).status).toBe('pass');
    expect(kubelet.run(installed('v1.29.9', enabled), hostCtx())).toMatchObject({ status: 'fail', code: 'too-old' });
    expect(kubelet.run(installed('v1.34.0', enabled), hostCtx())).toMatchObject({ status: 'fail', code: 'newer-than-control-plane' });
    expect(kubelet.run(installed('v1.34.0', enabled), hostCtx({ params: { kubernetesVersion: 'v1.34.1' } })).status).toBe('pass');
  });
  it('warns when the unit is missing or not enabled at boot', () => {
    expect(kubelet.run(installed('v1.33.13', 'kubelet /lib/systemd/system/kubelet.service no'), hostCtx())).toMatchObject({ status: 'warn', code: 'not-enabled' });
    expect(kubelet.run(installed('v1.33.13', 'kubelet - no'), hostCtx())).toMatchObject({ status: 'warn', code: 'no-unit' });
  });
});

describe('node.binaries (kubeadm FileExisting-*)', () => {
  it('passes what kubeadm v1.33 needs (losetup, mount, cp), fails a required one, warns for iptables (hostPorts)', () => {
    expect(binaries.run(bare, hostCtx())).toMatchObject({ status: 'pass', message: expect.stringContaining('losetup, mount, cp') });
    expect(binaries.run(variant({ binaries: [binariesWith({ iptables: '-' }), 0] }), hostCtx())).toMatchObject({ status: 'warn', code: 'missing-recommended', message: expect.stringContaining('iptables') });
    const noLosetup = variant({ binaries: [binariesWith({ losetup: '-' }), 0] });
    expect(binaries.run(noLosetup, hostCtx())).toMatchObject({ status: 'fail', code: 'missing-required', message: expect.stringContaining('losetup') });
  });
  it('follows the kubeadm version: conntrack is required up to v1.31 only', () => {
    const noConntrack = variant({ binaries: [binariesWith({ conntrack: '-', ethtool: '/usr/sbin/ethtool' }), 0] });
    expect(binaries.run(noConntrack, hostCtx({ params: { kubernetesVersion: 'v1.31.4' } }))).toMatchObject({ status: 'fail', message: expect.stringContaining('conntrack') });
    expect(binaries.run(noConntrack, hostCtx({ params: { kubernetesVersion: 'v1.33.0' } })).status).toBe('pass');
    // kubeadm up to v1.30 warned about ethtool (FileExisting-ethtool), which this machine lacks.
    expect(binaries.run(bare, hostCtx({ params: { kubernetesVersion: 'v1.30.0' } }))).toMatchObject({ status: 'fail', message: expect.stringContaining('crictl') });
    expect(binaries.run(bare, hostCtx({ params: { kubernetesVersion: 'v1.30.0' } })).message).toContain('ethtool');
  });
});

describe('node.system (kubeadm SystemVerification)', () => {
  it('warns that cgroup v1 is in maintenance on this machine, and passes nothing it could not read', () => {
    expect(system.run(bare, hostCtx())).toMatchObject({ status: 'warn', code: 'cgroup-v1' });
    expect(system.run(factsFrom('w1-pre-problems.txt'), hostCtx()).status).toBe('error');
  });
  it('fails when a required controller is disabled in /proc/cgroups', () => {
    const text = recorded('system').replace(/^pids\t(\d+)\t(\d+)\t1$/m, 'pids\t$1\t$2\t0');
    expect(text).not.toBe(recorded('system'));
    expect(system.run(variant({ system: [text, 0] }), hostCtx())).toMatchObject({ status: 'fail', code: 'cgroups-missing', message: expect.stringContaining('pids') });
  });
  it('fails without a kernel config, and when a required option is missing from it', () => {
    const none = recorded('system').replace(/== kernel config [\s\S]*$/, '== kernel config none\n');
    expect(system.run(variant({ system: [none, 0] }), hostCtx())).toMatchObject({ status: 'fail', code: 'kernel-config-unknown' });
    const noNs = recorded('system').replace(/^CONFIG_PID_NS=y\n/m, '');
    expect(system.run(variant({ system: [noNs, 0] }), hostCtx())).toMatchObject({ status: 'fail', code: 'kernel-config-missing', message: expect.stringContaining('CONFIG_PID_NS') });
  });
});

describe('node.hostname (kubeadm Hostname)', () => {
  it('passes a name that resolves to the loopback only, saying the kubelet falls back to the default route', () => {
    expect(hostname.run(bare, hostCtx())).toMatchObject({ status: 'pass', message: expect.stringContaining('eth0') });
  });
  it('warns when the name does not resolve, fails when it resolves to another machine', () => {
    expect(hostname.run(variant({ resolve: ['', 2] }), hostCtx())).toMatchObject({ status: 'warn', code: 'unresolvable' });
    expect(hostname.run(variant({ resolve: ['203.0.113.9     STREAM vm', 0] }), hostCtx())).toMatchObject({ status: 'fail', code: 'resolves-elsewhere' });
  });
  it('fails a name that is not a node name', () => {
    const f = parseNodeFacts(fixture(RECORDED).replace(/^hostname=vm$/m, 'hostname=node_1'));
    expect(hostname.run(f, hostCtx())).toMatchObject({ status: 'fail', code: 'invalid-name' });
  });
});

describe('node.proxy (kubeadm HTTPProxy, HTTPProxyCIDR)', () => {
  it('passes without a proxy; warns (as kubeadm does) for a proxy whose NO_PROXY leaves out the Service and pod CIDRs; masks credentials', () => {
    expect(proxy.run(bare, hostCtx()).status).toBe('pass');
    const proxied = variant({ proxyenv: ['/etc/environment:HTTPS_PROXY=http://***@proxy.corp:3128\n/etc/environment:NO_PROXY=localhost,127.0.0.1', 0] });
    const f = proxy.run(proxied, hostCtx());
    expect(f).toMatchObject({ status: 'warn', code: 'cluster-traffic-proxied', message: expect.stringContaining('10.96.0.0/12') });
    expect(JSON.stringify(f)).not.toMatch(/\/\/[^*]+@/);
    const covered = variant({ proxyenv: ['/etc/environment:HTTPS_PROXY=http://proxy.corp:3128\n/etc/environment:NO_PROXY=localhost,127.0.0.1,192.0.2.0/24,10.96.0.0/12,10.244.0.0/16,.svc,.cluster.local', 0] });
    expect(proxy.run(covered, hostCtx()).status).toBe('pass');
  });
});

describe('node.leftovers (kubeadm FileAvailable-*, DirAvailable--var-lib-etcd)', () => {
  it('passes a clean host; fails manifests and etcd data before init, kubelet.conf before join', () => {
    expect(leftovers.run(bare, hostCtx()).status).toBe('pass');
    const old = variant({ leftovers: ['file /etc/kubernetes/manifests/kube-apiserver.yaml\nnonempty /var/lib/etcd\nfile /etc/kubernetes/kubelet.conf\nkube-chains 12', 0] });
    const f = leftovers.run(old, hostCtx());
    expect(f.status).toBe('fail');
    expect(f.message).toMatch(/kube-apiserver\.yaml/);
    expect(f.message).toMatch(/\/var\/lib\/etcd/);
    expect(f.message).toMatch(/kubelet\.conf/);
  });
  it('judges only what was collected: leftovers are not looked at after install', () => {
    const old = variant({ leftovers: ['file /etc/kubernetes/manifests/kube-apiserver.yaml', 0] });
    expect(leftovers.run(old, hostCtx({ phase: 'post' })).status).toBe('skip');
  });
});

describe('node.persisted (settings that survive a reboot)', () => {
  it('says a live-only ip_forward comes back off at reboot; built-in br_netfilter needs no modules-load file', () => {
    const live = (facts: NodeFacts, over: Record<string, string>) => ({ ...facts, sysctls: { ...facts.sysctls, ...over } });
    const f = persisted.run(live(bare, { 'net.ipv4.ip_forward': '1' }), hostCtx());
    expect(f).toMatchObject({ status: 'warn', code: 'sysctl-not-persisted', message: expect.stringMatching(/ip_forward.*reboot/) });
    const persistedFile = variant({ persist: ['sysctl /etc/sysctl.d/k8s.conf:net.ipv4.ip_forward = 1\nlive vm.swappiness=60', 0] });
    expect(persisted.run(live(persistedFile, { 'net.ipv4.ip_forward': '1' }), hostCtx()).status).toBe('pass');
  });
  it('a later file wins, as systemd-sysctl applies them', () => {
    const overridden = variant({ persist: ['sysctl /etc/sysctl.d/10-k8s.conf:net.ipv4.ip_forward = 1\nsysctl /etc/sysctl.d/99-hardening.conf:net.ipv4.ip_forward = 0', 0] });
    const f = persisted.run({ ...overridden, sysctls: { ...overridden.sysctls, 'net.ipv4.ip_forward': '1' } }, hostCtx());
    expect(f).toMatchObject({ status: 'warn', code: 'sysctl-not-persisted', message: expect.stringContaining('99-hardening.conf') });
  });
});

describe('node.time-sync', () => {
  it('warns when the enabled service does not run (systemd-timesyncd here), when none is there, passes when chronyd runs', () => {
    expect(timeSync.run(bare, hostCtx())).toMatchObject({ status: 'warn', code: 'not-running', message: expect.stringContaining('systemd-timesyncd') });
    expect(timeSync.run(variant({ units: ['kubelet - no\nsystemd-timesyncd - no', 0] }), hostCtx())).toMatchObject({ status: 'warn', code: 'no-time-sync' });
    expect(timeSync.run({ ...bare, processes: [...bare.processes, { pid: 412, comm: 'chronyd' }] }, hostCtx()).status).toBe('pass');
  });
});

describe('node.disk', () => {
  it('passes 76 GiB free; fails below the floor naming the folder', () => {
    expect(disk.run(bare, hostCtx()).status).toBe('pass');
    const small = recorded('disk').replace(/\d+\s+\d+\s+\d+\s+\d+%/g, '1048576 900000 148576 86%');
    const f = disk.run(variant({ disk: [small, 0] }), hostCtx());
    expect(f).toMatchObject({ status: 'fail', code: 'low-space', message: expect.stringContaining('/var/lib/containerd') });
  });
});

describe('node.registry and node.cgroup-driver before install (the Docker-era runtime)', () => {
  it('fails Docker without cri-dockerd, and a daemon.json cgroup driver that does not match the kubelet\'s', () => {
    const daemonJson = '==> /etc/docker/daemon.json\n{"exec-opts": ["native.cgroupdriver=cgroupfs"], "registry-mirrors": ["https://mirror.example:5000"]}';
    const docker = variant({ procs: ['301 dockerd', 0], runtimecfg: [daemonJson, 0] });
    expect(registry.run(docker, hostCtx())).toMatchObject({ status: 'fail', code: 'docker-without-cri-dockerd' });
    const withCriDockerd = variant({ procs: ['301 dockerd\n302 cri-dockerd', 0], runtimecfg: [daemonJson, 0] });
    expect(cgroupDriver.run(withCriDockerd, hostCtx())).toMatchObject({ status: 'fail', code: 'will-mismatch', message: expect.stringMatching(/Docker uses the cgroupfs.*systemd/) });
    expect(cgroupDriver.run(withCriDockerd, hostCtx({ params: { kubeletCgroupDriver: 'cgroupfs' } })).status).toBe('pass');
  });
  it('knows containerd\'s own default: no SystemdCgroup in its config is cgroupfs, against kubeadm\'s systemd', () => {
    expect(cgroupDriver.run(bare, hostCtx())).toMatchObject({ status: 'fail', code: 'will-mismatch', message: expect.stringContaining('its default') });
    const invalid = variant({ procs: ['301 dockerd\n302 cri-dockerd', 0], runtimecfg: ['==> /etc/docker/daemon.json\n{"exec-opts": [', 0] });
    expect(registry.run(invalid, hostCtx())).toMatchObject({ status: 'fail', code: 'daemon-json-invalid' });
  });
  it('fails when the registry the cluster pulls from is not configured for containerd; passes a plain-HTTP mirror in hosts.toml', () => {
    expect(registry.run(bare, hostCtx({ params: { registry: 'http://10.0.0.5:5000' } }))).toMatchObject({ status: 'fail', code: 'registry-not-configured' });
    const mirrored = variant({ runtimecfg: ['==> dir /etc/containerd/certs.d/10.0.0.5:5000/\nhosts.toml\n==> /etc/containerd/certs.d/10.0.0.5:5000/hosts.toml\nserver = "http://10.0.0.5:5000"\n[host."http://10.0.0.5:5000"]\n  capabilities = ["pull", "resolve"]\n==> /etc/containerd/config.toml\n    config_path = "/etc/containerd/certs.d"', 0] });
    expect(registry.run(mirrored, hostCtx({ params: { registry: 'http://10.0.0.5:5000' } })).status).toBe('pass');
  });
});

describe('node.runtime', () => {
  it('names why a socket does not answer the CRI', () => {
    const f = runtime.run({ ...bare, runtimeSockets: [{ path: '/run/containerd/containerd.sock', listening: false, problem: 'connect ECONNREFUSED' }] }, hostCtx());
    expect(f).toMatchObject({ status: 'fail', code: 'not-answering', message: expect.stringContaining('ECONNREFUSED') });
  });
});

describe('fleet.node-ip and fleet.reachability', () => {
  const host = (name: string, eth0: string, nat: string, over: Partial<NodeFacts> = {}) => {
    const links = JSON.stringify([
      { ifname: 'lo', address: '00:00:00:00:00:00', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
      { ifname: 'enp0s3', address: '08:00:27:00:00:0' + name.length, addr_info: [{ family: 'inet', local: nat, prefixlen: 24 }] },
      { ifname: 'enp0s8', address: '08:00:27:00:01:0' + name.length, addr_info: [{ family: 'inet', local: eth0, prefixlen: 24 }] },
    ]);
    const f = parseNodeFacts(withSections(fixture(RECORDED).replace(/^hostname=vm$/m, `hostname=${name}`), {
      ipaddr: [links, 0],
      route: ['[{"dst":"default","gateway":"10.0.2.2","dev":"enp0s3","flags":[]}]', 0],
      resolve: ['', 2],
    }));
    return { ...f, ...over };
  };
  it('finds the VirtualBox NAT + host-only case: the same NAT address on every host, not the one they are reached at', () => {
    const members = [
      { host: 'cp1', roles: ['control-plane' as const], facts: host('cp1', '192.168.56.10', '10.0.2.15'), address: '192.168.56.10' },
      { host: 'w1', roles: ['worker' as const], facts: host('w1', '192.168.56.11', '10.0.2.15'), address: '192.168.56.11' },
    ];
    const out = nodeIp.run(members, fleetCtx());
    expect(out.get('cp1')).toMatchObject({ status: 'fail', code: 'duplicate', message: expect.stringContaining('10.0.2.15') });
    expect(out.get('cp1')!.message).toContain('reached at 192.168.56.10');
    const names = { lookups: [{ from: 'w1', name: 'cp1', addresses: null }, { from: 'cp1', name: 'w1', addresses: ['192.168.56.11'] }] };
    const apart = [
      { ...members[0], facts: host('cp1', '192.168.56.10', '10.0.2.15') },
      { ...members[1], facts: host('w1', '192.168.56.11', '10.0.2.16') },
    ];
    const judged = nodeIp.run(apart, fleetCtx({ probes: { names } }));
    expect(judged.get('w1')).toMatchObject({ status: 'warn', code: 'not-inventory-address' });
    expect(judged.get('w1')!.message).toContain('cp1 (cp1) does not resolve here');
    expect(judged.get('cp1')!.message).toContain('w1 resolves here to 192.168.56.11, not to its node address 10.0.2.16');
  });
  it('reports each blocked path from its source host, and skips when no probe was made', () => {
    const members = [{ host: 'cp1', roles: ['control-plane' as const], facts: bare }, { host: 'w1', roles: ['worker' as const], facts: bare }];
    const paths = [
      { from: 'w1', to: 'cp1', address: '192.0.2.10', port: 6443, proto: 'tcp' as const, why: 'the API server', ok: false, detail: 'timed out after 3000 ms' },
      { from: 'cp1', to: 'w1', address: '192.0.2.11', port: 10250, proto: 'tcp' as const, why: 'the kubelet API', ok: true, detail: 'connected' },
    ];
    const out = reachability.run(members, fleetCtx({ probes: { reachability: { paths, notes: [] } } }));
    expect(out.get('w1')).toMatchObject({ status: 'fail', code: 'blocked', message: 'w1 → cp1 192.0.2.10:6443/tcp (the API server): timed out after 3000 ms' });
    expect(out.get('cp1')!.status).toBe('pass');
    expect(reachability.run(members, fleetCtx()).get('w1')!.status).toBe('skip');
  });
  it('a host whose probe did not run is an error, not a pass on paths never tried', () => {
    const members = [{ host: 'cp1', roles: ['control-plane' as const], facts: bare }, { host: 'w1', roles: ['worker' as const], facts: bare }];
    const paths = [{ from: 'cp1', to: 'w1', address: '192.0.2.11', port: 10250, proto: 'tcp' as const, why: 'the kubelet API', ok: true, detail: 'connected' }];
    const out = reachability.run(members, fleetCtx({ probes: { reachability: { paths, notes: [], notProbed: { w1: 'its probe did not run (python3: not found)' } } } }));
    expect(out.get('w1')).toMatchObject({ status: 'error', message: 'the paths from this host were not tried: its probe did not run (python3: not found)' });
    expect(out.get('cp1')!.status).toBe('pass');
  });
  it('a note about one host goes to that host (h1\'s are not h10\'s), a note about none to every host', () => {
    const members = ['h1', 'h10'].map((h) => ({ host: h, roles: ['worker' as const], facts: bare }));
    const notes = ['h10 has neither perl nor python3: flannel\'s UDP 8472 to and from it is not probed', 'h1: could not listen on 8472/udp for the probe (Address already in use)', 'UDP 8472 is held (flannel\'s VXLAN) on h1'];
    const out = reachability.run(members, fleetCtx({ probes: { reachability: { paths: [], notes } } }));
    expect(out.get('h1')!.evidence?.notes).toBe([notes[1], notes[2]].join('\n'));
    expect(out.get('h10')!.evidence?.notes).toBe([notes[0], notes[2]].join('\n'));
  });
});
