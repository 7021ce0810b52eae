import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCertificates } from '../../src/collectors/node/certificates.js';
import { parseCniBinaries, parseCniConfigs } from '../../src/collectors/node/cni.js';
import { nodeCollectorScript, parseNodeFacts } from '../../src/collectors/node/index.js';
import { parseProcNetListen, parseSsListen, splitHostPort } from '../../src/collectors/node/listeners.js';
import { parseIpAddrJson, parseSysNet } from '../../src/collectors/node/network.js';
import { failureOf, parseKeyValues, splitSections } from '../../src/collectors/node/sections.js';
import { formatKiB, parseFstabSwap, parseProcSwaps } from '../../src/collectors/node/swap.js';
import {
  countCpuList,
  parseCgroupDrivers,
  parseCriSockets,
  parseHealthz,
  parseMeta,
  parseServices,
  parseSysctls,
} from '../../src/collectors/node/system.js';
import { EVIDENCE_SECTIONS } from '../../src/core/facts.js';
import { factsFrom, fixture, sectionOf } from '../helpers.js';

describe('splitSections', () => {
  it('splits marked sections with their exit codes', () => {
    const s = splitSections('@@kc:a\nhello\n\n@@kc:rc=0\n@@kc:b\nno such\n\n@@kc:rc=2\n');
    expect(s.get('a')).toEqual({ name: 'a', output: 'hello', rc: 0 });
    expect(s.get('b')?.rc).toBe(2);
  });
  it('keeps a section cut off by a dropped connection with rc -1', () => {
    const s = splitSections('@@kc:a\npartial output');
    expect(s.get('a')).toEqual({ name: 'a', output: 'partial output', rc: -1 });
  });
  it('classifies failures as missing, denied, unavailable', () => {
    expect(failureOf({ name: 'x', output: 'cat: /etc/fstab: No such file or directory', rc: 1 }, 'f')).toMatchObject({ ok: false, reason: 'missing' });
    expect(failureOf({ name: 'x', output: 'cat: /sys/class/dmi/id/product_uuid: Permission denied', rc: 1 }, 'f')).toMatchObject({ ok: false, reason: 'denied' });
    expect(failureOf({ name: 'x', output: 'ss: command not found', rc: 127 }, 'f')).toMatchObject({ ok: false, reason: 'unavailable' });
    expect(failureOf(undefined, 'f')).toMatchObject({ ok: false, reason: 'error' });
  });
  it('parses shell key=value files with quotes and comments', () => {
    expect(parseKeyValues('# c\nFLANNEL_NETWORK="10.244.0.0/16"\nB=\'x y\'\nbad line\n')).toEqual({ FLANNEL_NETWORK: '10.244.0.0/16', B: 'x y' });
  });
});

describe('parseProcSwaps', () => {
  it('reads several swap devices, with an escaped space in a path', () => {
    const devices = parseProcSwaps(sectionOf('w1-pre-problems.txt', 'swaps'));
    expect(devices).toEqual([
      { device: '/dev/dm-1', type: 'partition', sizeKiB: 8388604, usedKiB: 0, priority: -2 },
      { device: '/swap file', type: 'file', sizeKiB: 2097148, usedKiB: 1024, priority: -3 },
      { device: '/dev/zram0', type: 'partition', sizeKiB: 4194300, usedKiB: 5120, priority: 100 },
    ]);
  });
  it('reads a header-only table as no swap', () => {
    expect(parseProcSwaps('Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n')).toEqual([]);
  });
  it('rejects garbage instead of guessing', () => {
    expect(() => parseProcSwaps('/dev/sda2 partition big none x')).toThrow(/unexpected/);
  });
  it('formats sizes', () => {
    expect(formatKiB(8388604)).toBe('8.0 GiB');
    expect(formatKiB(8388608)).toBe('8 GiB');
    expect(formatKiB(2048)).toBe('2 MiB');
  });
});

describe('parseFstabSwap', () => {
  it('finds uncommented swap entries, tab or space separated, and ignores commented ones', () => {
    expect(parseFstabSwap(sectionOf('w1-pre-problems.txt', 'fstab'))).toEqual(['/dev/mapper/rl-swap\tnone\tswap\tdefaults\t0 0']);
    expect(parseFstabSwap(sectionOf('cp1-post-healthy.txt', 'fstab'))).toEqual([]);
  });
});

describe('network links', () => {
  it('reads ip -j addr: MACs, kinds, addresses; links without a MAC get none', () => {
    const links = parseIpAddrJson(sectionOf('cp1-post-healthy.txt', 'ipaddr'));
    expect(links.map((l) => l.name)).toEqual(['lo', 'ens3', 'flannel.1', 'cni0', 'veth1a2b3c4d', 'wg0']);
    expect(links[0].mac).toBeUndefined();
    expect(links[1]).toMatchObject({ mac: '52:54:00:12:34:01', up: true, addresses: [{ family: 'inet', address: '192.168.99.101', prefix: 24 }, { family: 'inet6', address: 'fe80::5054:ff:fe12:3401', prefix: 64 }] });
    expect(links[2].kind).toBe('vxlan');
    expect(links[5].mac).toBeUndefined();
  });
  it('reads the sysfs fallback when ip is missing', () => {
    expect(parseSysNet(sectionOf('minimal-nonroot.txt', 'sysnet'))).toEqual([
      { name: 'eth0', mac: '02:42:ac:11:00:02', up: false, addresses: [] },
      { name: 'lo', up: false, addresses: [] },
      { name: 'tun0', up: false, addresses: [] },
    ]);
  });
  it('rejects output that is not ip JSON', () => {
    expect(() => parseIpAddrJson('1: lo: <LOOPBACK,UP>')).toThrow();
  });
});

describe('listeners', () => {
  it('splits IPv4, IPv6, wildcard and scoped addresses', () => {
    expect(splitHostPort('*:10250')).toEqual({ address: '*', port: 10250 });
    expect(splitHostPort('[::]:22')).toEqual({ address: '::', port: 22 });
    expect(splitHostPort('127.0.0.53%lo:53')).toEqual({ address: '127.0.0.53', port: 53 });
    expect(splitHostPort('[::ffff:10.0.0.1]:2379')).toEqual({ address: '::ffff:10.0.0.1', port: 2379 });
    expect(splitHostPort('garbage')).toBeNull();
  });
  it('reads ss -tulnp with processes, IPv6 and *:port listeners, and UDP without a process', () => {
    const l = parseSsListen(sectionOf('cp1-post-healthy.txt', 'listen'));
    expect(l).toContainEqual({ proto: 'tcp', address: '*', port: 6443, process: 'kube-apiserver', pid: 1098 });
    expect(l).toContainEqual({ proto: 'tcp', address: '::', port: 22, process: 'sshd', pid: 655 });
    expect(l).toContainEqual({ proto: 'tcp', address: '127.0.0.1', port: 10257, process: 'kube-controller', pid: 1120 });
    expect(l).toContainEqual({ proto: 'udp', address: '0.0.0.0', port: 8472 });
    expect(l).toHaveLength(15);
  });
  it('takes the first of several processes sharing a socket', () => {
    const l = parseSsListen(sectionOf('w1-pre-problems.txt', 'listen'));
    expect(l[0]).toEqual({ proto: 'tcp', address: '0.0.0.0', port: 10250, process: 'nginx', pid: 2201 });
  });
  it('skips the header that old ss versions print', () => {
    const l = parseSsListen('Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\ntcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n');
    expect(l).toEqual([{ proto: 'tcp', address: '0.0.0.0', port: 22 }]);
  });
  it('reads /proc/net when ss is missing: LISTEN tcp and bound udp only, v4 and v6 decoded', () => {
    const l = parseProcNetListen(sectionOf('minimal-nonroot.txt', 'listenproc'));
    expect(l).toEqual([
      { proto: 'tcp', address: '0.0.0.0', port: 6666 },
      { proto: 'tcp', address: '127.0.0.1', port: 53 },
      { proto: 'tcp', address: '::', port: 22 },
      { proto: 'tcp', address: '::ffff:127.0.0.1', port: 8080 },
      { proto: 'udp', address: '0.0.0.0', port: 8472 },
    ]);
  });
});

describe('system sections', () => {
  it('reads meta', () => {
    expect(parseMeta(sectionOf('w1-pre-problems.txt', 'meta'))).toEqual({
      hostname: 'w1', kernel: '5.14.0-362.el9.x86_64', os: 'Rocky Linux 9.3 (Blue Onyx)', uid: 0, init: 'systemd', cpus: 1, memoryMiB: 988,
    });
  });
  it('reads sysctls, missing keys as null', () => {
    expect(parseSysctls(sectionOf('w1-pre-problems.txt', 'sysctls'))).toEqual({
      'net.ipv4.ip_forward': '0',
      'net.bridge.bridge-nf-call-iptables': null,
      'net.bridge.bridge-nf-call-ip6tables': null,
      'net.ipv6.conf.all.forwarding': '0',
    });
  });
  it('reads systemd unit states and nothing on a non-systemd host', () => {
    expect(parseServices(sectionOf('cp1-post-healthy.txt', 'services'))).toMatchObject({ kubelet: 'active', firewalld: 'inactive' });
    expect(parseServices('not systemd')).toEqual({});
  });
  it('reads CRI sockets: answered by crictl, seen listening by ss, or stale', () => {
    expect(parseCriSockets(sectionOf('cp1-post-healthy.txt', 'crisock'))).toEqual([
      { path: '/run/containerd/containerd.sock', listening: true, answer: 'RuntimeName: containerd' },
    ]);
    expect(parseCriSockets('socket /run/crio/crio.sock\nss u_str LISTEN 0 4096 /var/run/crio/crio.sock 1 * 0')).toEqual([
      { path: '/run/crio/crio.sock', listening: true },
    ]);
    expect(parseCriSockets('socket /run/containerd/containerd.sock')).toEqual([{ path: '/run/containerd/containerd.sock', listening: false }]);
  });
  it('reads the kubelet healthz answer', () => {
    expect(parseHealthz('ok\nhttp=200')).toEqual({ ok: true, detail: 'HTTP 200: ok' });
    expect(parseHealthz('[-]syncloop failed\nhttp=500')).toEqual({ ok: false, detail: 'HTTP 500: [-]syncloop failed' });
    expect(parseHealthz('\nhttp=000')).toEqual({ ok: false, detail: 'nothing answered on 127.0.0.1:10248' });
  });
  it('reads cgroup drivers of kubelet and containerd (grep -H output)', () => {
    expect(parseCgroupDrivers('/var/lib/kubelet/config.yaml:cgroupDriver: cgroupfs\n/etc/containerd/config.toml:            SystemdCgroup = true')).toEqual({ kubelet: 'cgroupfs', containerd: 'systemd' });
    expect(parseCgroupDrivers('kubelet cgroupDriver: systemd\ncontainerd    SystemdCgroup = false')).toEqual({ kubelet: 'systemd', containerd: 'cgroupfs' });
  });
  it('counts online CPUs from /sys/devices/system/cpu/online', () => {
    expect(countCpuList('0-3')).toBe(4);
    expect(countCpuList('0,2-5,7')).toBe(6);
    expect(countCpuList('0')).toBe(1);
    expect(countCpuList('garbage')).toBeNull();
  });
  it('reads systemctl is-active answers in unit order', () => {
    expect(parseServices('units kubelet containerd firewalld\nactive\nfailed\ninactive')).toEqual({ kubelet: 'active', containerd: 'failed', firewalld: 'inactive' });
  });
  it('finds a CRI socket listening from the unix listeners of the listen section', () => {
    expect(parseCriSockets('socket /run/containerd/containerd.sock', 'u_str LISTEN 0 5 /run/containerd/containerd.sock 177980 * 0 users:(("containerd",pid=25,fd=5))')).toEqual([
      { path: '/run/containerd/containerd.sock', listening: true },
    ]);
  });
  it('does not query /healthz when no kubelet runs', () => {
    expect(parseHealthz('no kubelet process')).toEqual({ ok: false, detail: 'not queried: no kubelet process runs' });
  });
});

describe('certificates', () => {
  it('reads each file\'s leaf certificate dates', () => {
    const certs = parseCertificates(sectionOf('w1-pre-problems.txt', 'certs'));
    expect(certs).toEqual([
      { path: '/etc/kubernetes/pki/apiserver.crt', subject: 'CN=kube-apiserver', notBefore: '2025-01-01T00:00:00.000Z', notAfter: '2026-01-01T00:00:00.000Z' },
      { path: '/etc/kubernetes/pki/front-proxy-client.crt', subject: 'CN=front-proxy-client', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2026-06-20T00:00:00.000Z' },
      { path: '/var/lib/kubelet/pki/kubelet-client-current.pem', subject: 'CN=system:node:w1', notBefore: '2025-01-01T00:00:00.000Z', notAfter: '2026-02-01T00:00:00.000Z' },
    ]);
  });
  it('reports unreadable and broken files instead of dropping them', () => {
    expect(parseCertificates('==> /etc/kubernetes/pki\npermission denied\n==> /x.crt\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n==> /y.crt\n')).toEqual([
      { path: '/etc/kubernetes/pki', error: 'permission denied (run as root or with sudo)' },
      { path: '/x.crt', error: expect.stringMatching(/^not a valid certificate/) },
      { path: '/y.crt', error: 'no PEM certificate in the file' },
    ]);
  });
});

describe('cni sections', () => {
  it('reads plugin binaries with their exec bit and conflists with content', () => {
    expect(parseCniBinaries('x bridge\n- flannel\n')).toEqual([{ name: 'bridge', executable: true }, { name: 'flannel', executable: false }]);
    const configs = parseCniConfigs(sectionOf('cp1-post-healthy.txt', 'cninet'));
    expect(configs.map((c) => c.name)).toEqual(['10-flannel.conflist']);
    expect(JSON.parse(configs[0].content).plugins[0].type).toBe('flannel');
  });
});

describe('parseNodeFacts', () => {
  it('parses a healthy control-plane host', () => {
    const f = factsFrom('cp1-post-healthy.txt');
    expect(f.hostname).toBe('cp1');
    expect(f.productUuid).toEqual({ ok: true, value: '8e6b4d2a-3c1f-4b5e-9a7d-1f2e3d4c5b6a' });
    expect(f.swaps).toEqual({ ok: true, value: [] });
    expect(f.listenerProcesses).toBe(true);
    expect(f.clock).toEqual({ hostMs: 1780304400250, rttMs: 20, offsetMs: 250 });
    expect(f.cni.subnetEnv).toEqual({ ok: true, value: { FLANNEL_NETWORK: '10.244.0.0/16', FLANNEL_SUBNET: '10.244.0.1/24', FLANNEL_MTU: '1450', FLANNEL_IPMASQ: 'true' } });
    expect(f.kubeletHealthz).toEqual({ ok: true, value: { ok: true, detail: 'HTTP 200: ok' } });
  });
  it('keeps the raw text of the evidence sections only (a fleet holds every host\'s facts until the fleet checks)', () => {
    const f = factsFrom('w1-pre-problems.txt');
    expect(f.raw.listen).toBe(sectionOf('w1-pre-problems.txt', 'listen'));
    expect(Object.keys(f.raw).every((name) => (EVIDENCE_SECTIONS as readonly string[]).includes(name))).toBe(true);
    expect(Object.keys(f.raw)).not.toContain('ipaddr');
  });
  it('never keeps private key material from certificate files', () => {
    const f = factsFrom('w1-pre-problems.txt');
    expect(sectionOf('w1-pre-problems.txt', 'certs')).toContain('BEGIN CERTIFICATE');
    expect(f.certificates.length).toBeGreaterThan(0);
    expect(JSON.stringify(f)).not.toMatch(/PRIVATE KEY/);
  });
  it('falls back on a host without ss or ip, as non-root, without systemd', () => {
    const f = factsFrom('minimal-nonroot.txt');
    expect(f.init).toBe('other');
    expect(f.uid).toBe(1000);
    expect(f.links.ok && f.links.value.map((l) => l.name)).toEqual(['eth0', 'lo', 'tun0']);
    expect(f.listeners.ok && f.listeners.value.length).toBe(5);
    expect(f.listenerProcesses).toBe(false);
    expect(f.productUuid).toMatchObject({ ok: false, reason: 'denied' });
    expect(f.fstabSwap).toMatchObject({ ok: false, reason: 'missing' });
    expect(f.kubeletHealthz).toMatchObject({ ok: false, reason: 'unavailable' });
    expect(f.clock).toBeNull(); // busybox date printed a literal N
    expect(f.certificates).toEqual([{ path: '/etc/kubernetes/pki', error: 'permission denied (run as root or with sudo)' }]);
  });
  it('parses the real output recorded on a Debian 12 VM (no DMI, not systemd)', () => {
    const f = factsFrom('vm-debian12-root.txt');
    expect(f.hostname).toBe('vm');
    expect(f.productUuid).toMatchObject({ ok: false, reason: 'missing' });
    expect(f.links.ok && f.links.value.find((l) => l.name === 'eth0')?.mac).toBe('02:fc:00:00:00:01');
  });
  it('parses the real output of a test host over SSH: kubelet on 10248/10250, containerd socket via ss -x', () => {
    const f = factsFrom('testhost-h2-post-kubelet.txt');
    expect(f.hostname).toBe('h2');
    expect(f.cpus).toBeGreaterThan(0);
    expect(f.kubeletHealthz).toEqual({ ok: true, value: { ok: true, detail: 'HTTP 200: ok' } });
    expect(f.runtimeSockets).toEqual([{ path: '/run/containerd/containerd.sock', listening: true }]);
    expect(f.listeners.ok && f.listeners.value.filter((l) => l.process === 'kubelet').map((l) => l.port).sort()).toEqual([10248, 10250]);
    expect(f.processes.map((p) => p.comm)).toEqual(['containerd', 'kubelet', 'kubelet']);
  });
  it('refuses output that is not the collector\'s', () => {
    expect(() => parseNodeFacts('sudo: a password is required\n')).toThrow(/no sections/);
  });
});

describe('the collector\'s output on its way out', () => {
  // The collector run here, by dash and by busybox's ash, under strace: which process wrote what to stdout.
  const traced = (shell: string[], script: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'kc-writes-'));
    try {
      writeFileSync(join(dir, 'collector.sh'), script);
      const run = spawnSync('strace', ['-f', '-qq', '-e', 'trace=write', '-o', join(dir, 'trace'), ...shell, join(dir, 'collector.sh')], { encoding: 'utf8', maxBuffer: 1 << 26 });
      expect(run.status).toBe(0);
      const lines = readFileSync(join(dir, 'trace'), 'utf8').split('\n');
      const top = lines[0].split(/\s+/)[0];
      return { stdout: run.stdout, topWrites: lines.filter((l) => l.startsWith(`${top} `) && /write\(1,/.test(l)).length };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('leaves the host\'s shell in a few writes (the clock at once, then everything else), not one per line', () => {
    for (const shell of [['/bin/sh'], ['/usr/bin/busybox', 'sh']]) {
      for (const kubeletLog of [false, true]) {
        const { stdout, topWrites } = traced(shell, nodeCollectorScript({ phase: 'pre', kubeletLog }));
        const names = [...stdout.matchAll(/^@@kc:([a-z]+)$/gm)].map((m) => m[1]);
        expect(names[0]).toBe('clock');
        expect(names).toContain('system');
        expect(names.includes('kubeletlog')).toBe(kubeletLog);
        expect(parseNodeFacts(stdout).hostname).toBeTruthy();
        // The clock section is two printfs and date's line; the rest is one write (a few past the pipe's size).
        expect(topWrites).toBeLessThanOrEqual(6);
      }
    }
  });
});
