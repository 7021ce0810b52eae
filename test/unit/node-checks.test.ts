import { describe, expect, it } from 'vitest';
import { certificates } from '../../checks/node/certificates.js';
import { firewall } from '../../checks/node/firewall.js';
import { kubelet } from '../../checks/node/kubelet.js';
import { ports } from '../../checks/node/ports.js';
import { resources } from '../../checks/node/resources.js';
import { runtime } from '../../checks/node/runtime.js';
import { selinux } from '../../checks/node/selinux.js';
import { swap } from '../../checks/node/swap.js';
import { sysctl } from '../../checks/node/sysctl.js';
import { parseNodeFacts } from '../../src/collectors/node/index.js';
import { factsFrom, fixture, hostCtx, withSections } from '../helpers.js';

const healthy = factsFrom('cp1-post-healthy.txt');
const problems = factsFrom('w1-pre-problems.txt');
const minimal = factsFrom('minimal-nonroot.txt');
const patched = (replace: Record<string, [string, number]>) => parseNodeFacts(withSections(fixture('collector/cp1-post-healthy.txt'), replace));

describe('node.swap', () => {
  it('fails naming every active device with its size', () => {
    const f = swap.run(problems, hostCtx());
    expect(f.status).toBe('fail');
    expect(f.message).toBe('swap is on: /dev/dm-1 (8.0 GiB), /swap file (2.0 GiB), /dev/zram0 (4.0 GiB)');
    expect(f.evidence?.['/proc/swaps']).toContain('/dev/dm-1');
  });
  it('warns when swap is off but /etc/fstab turns it on at boot', () => {
    const f = swap.run(patched({ fstab: ['/swap.img none swap sw 0 0', 0] }), hostCtx());
    expect(f).toMatchObject({ status: 'warn', message: expect.stringContaining('/swap.img none swap sw 0 0') });
    expect(f.remediation).toContain('/etc/fstab');
  });
  it('passes with no swap and a commented fstab line', () => {
    expect(swap.run(healthy, hostCtx()).status).toBe('pass');
  });
  it('errors when /proc/swaps cannot be read', () => {
    expect(swap.run(patched({ swaps: ['cat: /proc/swaps: Permission denied', 1] }), hostCtx()).status).toBe('error');
  });
});

describe('node.sysctl', () => {
  it('fails on ip_forward=0 and a missing br_netfilter, with the commands to fix both', () => {
    const f = sysctl.run(problems, hostCtx());
    expect(f.status).toBe('fail');
    expect(f.message).toContain('net.ipv4.ip_forward is 0, must be 1');
    expect(f.message).toContain('br_netfilter is not loaded');
    expect(f.remediation).toContain('modprobe br_netfilter');
    expect(f.remediation).toContain('net.ipv4.ip_forward = 1');
  });
  it('fails when bridge-nf-call-iptables is 0', () => {
    const f = sysctl.run(patched({ sysctls: ['net/ipv4/ip_forward=1\nnet/bridge/bridge-nf-call-iptables=0\nnet/bridge/bridge-nf-call-ip6tables=1', 0] }), hostCtx());
    expect(f).toMatchObject({ status: 'fail', message: 'net.bridge.bridge-nf-call-iptables is 0, must be 1' });
  });
  it('passes on a configured host, and checks IPv6 forwarding only when asked', () => {
    expect(sysctl.run(healthy, hostCtx()).status).toBe('pass');
    expect(sysctl.run(healthy, hostCtx({ params: { ipv6: true } })).message).toContain('net.ipv6.conf.all.forwarding is 0');
  });
});

describe('node.ports', () => {
  it('pre-install on a worker: names the process on 10250 and the NodePort-range listeners', () => {
    const f = ports.run(problems, hostCtx({ roles: ['worker'] }));
    expect(f.status).toBe('fail');
    expect(f.message).toContain('10250/tcp (kubelet) is taken by nginx (pid 2201) on 0.0.0.0:10250/tcp');
    expect(f.message).toContain('30080/tcp is inside the NodePort range 30000-32767, held by node_exporter (pid 990)');
    expect(f.message).toContain('31000/udp is inside the NodePort range');
    expect(f.message).not.toContain('6443');
  });
  it('pre-install on a control plane: every component port of an installed host is taken', () => {
    const f = ports.run(healthy, hostCtx({ roles: ['control-plane'] }));
    expect(f.status).toBe('fail');
    expect(f.message).toContain('6443/tcp (kube-apiserver) is taken by kube-apiserver (pid 1098) on *:6443/tcp');
    expect(f.message).toContain('2379/tcp (etcd) is taken by etcd');
  });
  it('post-install on a control plane: passes when each port is held by its component', () => {
    expect(ports.run(healthy, hostCtx({ phase: 'post' }))).toMatchObject({ status: 'pass' });
  });
  it('post-install: fails when another process holds a component port, or nothing listens', () => {
    const f = ports.run(patched({ listen: ['tcp LISTEN 0 4096 *:6443 *:* users:(("haproxy",pid=9,fd=3))', 0] }), hostCtx({ phase: 'post' }));
    expect(f.status).toBe('fail');
    expect(f.message).toContain('6443/tcp is held by haproxy (pid 9) on *:6443/tcp, expected kube-apiserver');
    expect(f.message).toContain('nothing listens on 10259/tcp (expected kube-scheduler)');
  });
  it('checks the legacy 10251/10252 ports only when asked', () => {
    const listen = 'tcp LISTEN 0 4096 *:10251 *:* users:(("python3",pid=5,fd=3))';
    expect(ports.run(patched({ listen: [listen, 0] }), hostCtx()).status).toBe('pass');
    expect(ports.run(patched({ listen: [listen, 0] }), hostCtx({ params: { legacyPorts: true } })).message).toContain('10251/tcp');
  });
  it('honours a custom NodePort range', () => {
    const f = ports.run(problems, hostCtx({ roles: ['worker'], params: { nodePortRange: '31000-31001' } }));
    expect(f.message).not.toContain('30080');
    expect(f.message).toContain('31000/udp is inside the NodePort range 31000-31001');
  });
  it('without ss, still finds a taken port from /proc/net, saying the process is unknown', () => {
    const f = ports.run(patched({ listen: ['ss: command not found', 127], listenproc: ['== tcp\n  sl local\n   0: 00000000:192B 00000000:0000 0A 0 0 0 0 0 1', 0] }), hostCtx());
    expect(f.status).toBe('fail');
    expect(f.message).toContain('6443/tcp (kube-apiserver) is taken by an unknown process');
  });
  it('errors when listeners cannot be read at all', () => {
    expect(ports.run(patched({ listen: ['ss: command not found', 127] }), hostCtx()).status).toBe('error');
  });
});

describe('node.resources', () => {
  it('fails a 1-CPU 988 MiB control-plane host', () => {
    const f = resources.run(problems, hostCtx());
    expect(f).toMatchObject({ status: 'fail', message: '1 CPU, at least 2 needed; 988 MiB of memory, at least 1700 MiB needed' });
  });
  it('accepts the same host as a worker, and honours params', () => {
    expect(resources.run(problems, hostCtx({ roles: ['worker'] })).status).toBe('pass');
    expect(resources.run(healthy, hostCtx({ params: { minMemoryMiB: 16000 } })).status).toBe('fail');
  });
});

describe('node.runtime', () => {
  it('passes when containerd answers', () => {
    expect(runtime.run(healthy, hostCtx())).toMatchObject({ status: 'pass', message: expect.stringContaining('/run/containerd/containerd.sock') });
  });
  it('fails with no socket, and with a stale socket nothing answers on', () => {
    expect(runtime.run(problems, hostCtx()).message).toBe('no CRI socket found (containerd, CRI-O, cri-dockerd)');
    expect(runtime.run(minimal, hostCtx())).toMatchObject({ status: 'fail', message: expect.stringContaining('nothing answers') });
  });
  it('warns when two runtimes answer', () => {
    const f = runtime.run(patched({ crisock: ['socket /run/containerd/containerd.sock\nsocket /run/crio/crio.sock\nss u_str LISTEN 0 1 /run/containerd/containerd.sock 1\nss u_str LISTEN 0 1 /run/crio/crio.sock 2', 0] }), hostCtx());
    expect(f.status).toBe('warn');
    expect(f.remediation).toContain('--cri-socket');
  });
});

describe('node.kubelet', () => {
  it('is judged as an installation before install (installed, in skew, enabled: test/unit/preinstall-checks.test.ts), not as a running kubelet', () => {
    expect(kubelet.run(problems, hostCtx())).toMatchObject({ status: 'error', message: expect.stringContaining('PATH lookups') });
  });
  it('passes when running and healthy, fails when down or unhealthy', () => {
    expect(kubelet.run(healthy, hostCtx({ phase: 'post' })).status).toBe('pass');
    expect(kubelet.run(problems, hostCtx({ phase: 'post' }))).toMatchObject({ status: 'fail', message: 'the kubelet is not running (systemd: inactive)' });
    const sick = patched({ healthz: ['[-]syncloop failed\nhttp=500', 0] });
    expect(kubelet.run(sick, hostCtx({ phase: 'post' }))).toMatchObject({ status: 'fail', message: expect.stringContaining('HTTP 500') });
  });
  it('warns when /healthz cannot be queried (no curl) instead of passing', () => {
    const f = kubelet.run(patched({ healthz: ['curl: command not found', 127] }), hostCtx({ phase: 'post' }));
    expect(f.status).toBe('warn');
  });
});

describe('node.certificates', () => {
  it('fails expired certificates and warns on one expiring within 30 days, each with its renewal', () => {
    const f = certificates.run(problems, hostCtx());
    expect(f.status).toBe('fail');
    expect(f.message).toContain('/etc/kubernetes/pki/apiserver.crt expired on 2026-01-01');
    expect(f.message).toContain('/var/lib/kubelet/pki/kubelet-client-current.pem expired on 2026-02-01');
    expect(f.message).toContain('/etc/kubernetes/pki/front-proxy-client.crt expires in 18 days');
    expect(f.remediation).toContain('kubeadm certs renew all');
  });
  it('passes valid certificates and names the first to expire', () => {
    expect(certificates.run(healthy, hostCtx()).message).toBe('3 certificates valid; first to expire: /etc/kubernetes/pki/apiserver.crt on 2027-01-01');
  });
  it('honours warnDays', () => {
    expect(certificates.run(healthy, hostCtx({ params: { warnDays: 400 } })).status).toBe('warn');
  });
  it('errors when the pki folder is unreadable', () => {
    expect(certificates.run(minimal, hostCtx()).status).toBe('error');
  });
  it('fails a certificate not yet valid (clock behind)', () => {
    const f = certificates.run(healthy, hostCtx({ now: new Date('2025-06-01T00:00:00Z') }));
    expect(f.message).toContain('is not valid before');
  });
});

describe('node.firewall and node.selinux', () => {
  it('warn when firewalld is active or SELinux enforcing, pass otherwise', () => {
    expect(firewall.run(problems, hostCtx()).status).toBe('warn');
    expect(firewall.run(healthy, hostCtx()).status).toBe('pass');
    expect(selinux.run(problems, hostCtx())).toMatchObject({ status: 'warn', message: 'SELinux is enforcing' });
    expect(selinux.run(healthy, hostCtx()).status).toBe('pass');
  });
  it('find firewalld by its process on a host without systemd', () => {
    expect(firewall.run(patched({ services: ['not systemd', 0], procs: ['42 firewalld', 0] }), hostCtx()).status).toBe('warn');
  });
});
