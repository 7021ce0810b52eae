// The install guides' host prerequisites kubeadm does not check, on real test hosts laid out for kubeadm
// (real kubelet, containerd, chronyd, settings files), one fault per host: a live-only setting, a stopped
// time service, a nearly full kubelet filesystem, the VirtualBox NAT + host-only pair, an earlier
// install's state, an unreachable mirror, a firewall between two hosts (TCP and UDP). The probe between
// hosts runs as perl, as python3 where there is no perl, and from kubecheck's side where there is neither.
// And the probes leave nothing behind.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFleet, destroyFleet, onHost, setFile, sshdLog, writeInventory, type TestFleet, type TestHost } from '../../scripts/testhosts.js';
import type { CheckResult, RunResult } from '../../src/core/types.js';
import { kubecheckWith } from '../helpers.js';

let fleet: TestFleet;
let report: RunResult;
/** What each host's sshd logged during the preflight. */
let sshdLogs: Map<string, string>;
const H = (n: number): TestHost => fleet.hosts[n - 1];
const find = (check: string, host: TestHost): CheckResult => {
  const r = report.results.find((x) => x.check === check && x.target === host.name);
  if (!r) throw new Error(`no result for ${check} on ${host.name}`);
  return r;
};

// h1 control plane (healthy); h2 ip_forward set live only; h3 chronyd stopped; h4 64 MiB /var/lib/kubelet;
// h5+h6 a NAT interface with the same 10.0.2.15 carrying the default route, names in /etc/hosts on 127.0.1.1;
// h7 an earlier install's IPAM state and KUBE- chains, and a mirror that does not answer; h8 drops 10250 from h1
// and flannel's UDP 8472 from h4. h2 has no perl (its probe is probe.py), h3 neither perl nor python3.
beforeAll(async () => {
  fleet = await createFleet(8, { preinstalled: true });
  await onHost(H(2), 'rm -f /etc/sysctl.d/k8s.conf');
  await onHost(H(3), 'pkill -x chronyd; true');
  await onHost(H(4), 'mount -t tmpfs -o size=64m tmpfs /var/lib/kubelet && dd if=/dev/zero of=/var/lib/kubelet/fill bs=1M count=60 2>/dev/null');
  for (const h of [H(5), H(6)]) {
    await onHost(h, [
      'ip link add nat0 type veth peer name nat0p', 'ip link set nat0p up', 'ip addr add 10.0.2.15/24 dev nat0', 'ip link set nat0 up',
      'ip route replace default via 10.0.2.2 dev nat0 onlink',
      // As the guides' Vagrant boxes have it: the hostname on 127.0.1.1, so the kubelet falls back to the default route.
      `sed 's/^${h.ip.replace(/\./g, '\\.')} ${h.name}$/127.0.1.1 ${h.name}/' /etc/hosts > /tmp/hosts.kc && cat /tmp/hosts.kc > /etc/hosts && rm /tmp/hosts.kc`,
    ].join(' && '));
  }
  setFile(H(7), 'var-lib-cni/networks/cbr0/10.244.1.7', 'f00ba4\neth0\n');
  await onHost(H(7), 'iptables -N KUBE-SERVICES && iptables -N KUBE-NODEPORTS');
  setFile(H(7), 'etc-containerd/certs.d/docker.io/hosts.toml', `server = "https://registry-1.docker.io"\n\n[host."http://${fleet.deadAddress}:5000"]\n  capabilities = ["pull", "resolve"]\n`);
  await onHost(H(8), `iptables -A INPUT -p tcp --dport 10250 -s ${H(1).ip} -j DROP && iptables -A INPUT -p udp --dport 8472 -s ${H(4).ip} -j DROP`);
  // A program hidden in the host's own mount namespace: a plain file that is not executable bound over it.
  const notAProgram = join(fleet.dir, 'not-a-program');
  writeFileSync(notAProgram, '', { mode: 0o644 });
  const hide = (program: string) => `for p in $(which -a ${program}); do mount --bind ${notAProgram} "$(readlink -f "$p")" || exit 1; done`;
  await onHost(H(2), hide('perl'));
  await onHost(H(3), `${hide('perl')} && ${hide('python3')}`);
  const inventory = writeInventory(fleet, 'preinstall.yaml');
  const logged = new Map(fleet.hosts.map((h) => [h.name, sshdLog(h).length]));
  const run = await kubecheckWith({ env: { SSH_AUTH_SOCK: '' }, timeoutMs: 180_000 }, 'preflight', '-i', inventory, '-o', 'json');
  report = JSON.parse(run.stdout) as RunResult;
  sshdLogs = new Map(fleet.hosts.map((h) => [h.name, sshdLog(h).slice(logged.get(h.name))]));
}, 300_000);

afterAll(async () => {
  await destroyFleet();
});

describe('pre-install host prerequisites on real test hosts', () => {
  it('a setting made live only is reported as coming back at reboot', () => {
    expect(find('node.persisted', H(2))).toMatchObject({ status: 'warn', code: 'node.persisted/sysctl-not-persisted', message: expect.stringContaining('net.ipv4.ip_forward') });
    expect(find('node.sysctl', H(2)).status).toBe('pass');
    expect(find('node.persisted', H(1)).status).toBe('pass');
  });

  it('a time service enabled at boot but not running', () => {
    expect(find('node.time-sync', H(3))).toMatchObject({ status: 'warn', code: 'node.time-sync/not-running', message: expect.stringContaining('chrony') });
    expect(find('node.time-sync', H(1))).toMatchObject({ status: 'pass', message: expect.stringMatching(/^chronyd runs \(pid \d+\)/) });
  });

  it('too little space under /var/lib/kubelet fails, naming the folder', () => {
    expect(find('node.disk', H(4))).toMatchObject({ status: 'fail', code: 'node.disk/low-space', message: expect.stringContaining('/var/lib/kubelet') });
  });

  it('two hosts whose default route is a NAT interface with the same address: both would register 10.0.2.15', () => {
    for (const [h, other] of [[H(5), H(6)], [H(6), H(5)]]) {
      const r = find('fleet.node-ip', h);
      expect(r).toMatchObject({ status: 'fail', code: 'fleet.node-ip/duplicate' });
      expect(r.message).toContain(`would register 10.0.2.15, as ${other.name} would`);
      expect(r.message).toContain(`is reached at ${h.ip} (eth0) but would register 10.0.2.15`);
    }
    // And on the others, their names resolve to the host-only address, not to the node address they will have.
    expect(find('fleet.node-ip', H(1))).toMatchObject({ status: 'warn', code: 'fleet.node-ip/name-elsewhere' });
    expect(find('fleet.node-ip', H(1)).message).toContain(`h5 resolves here to ${H(5).ip}, not to its node address 10.0.2.15`);
  });

  it('an earlier install\'s state and a mirror that does not answer', () => {
    const left = find('node.leftovers', H(7));
    expect(left.status).not.toBe('pass');
    expect(left.message).toMatch(/\/var\/lib\/cni/);
    expect(left.message).toMatch(/KUBE-/);
    expect(find('node.registry', H(7))).toMatchObject({ status: 'fail', code: 'node.registry/unreachable', message: expect.stringContaining(`${fleet.deadAddress}:5000`) });
    expect(find('node.leftovers', H(1)).status).toBe('pass');
  });

  const blocked = (h: TestHost) => find('fleet.reachability', h).message.split('; ');
  const ipOf = (h: TestHost) => h.ip.replace(/\./g, '\\.');

  it('a firewall between two hosts: the control plane cannot reach one kubelet port', () => {
    expect(find('fleet.reachability', H(1))).toMatchObject({ status: 'fail', code: 'fleet.reachability/blocked' });
    expect(blocked(H(1))).toContainEqual(expect.stringMatching(new RegExp(`^h1 → h8 ${H(8).ip.replace(/\./g, '\\.')}:10250/tcp \\(the kubelet API.*\\): .*tim`)));
    // Every other path blocked from h1 goes to the NAT address of h5/h6 (what their nodes would use), none elsewhere.
    expect(blocked(H(1)).filter((m) => !m.startsWith('h1 → h8 ') && !/^h1 → h[56] 10\.0\.2\.15:/.test(m))).toEqual([]);
    for (const h of [H(2), H(3), H(4), H(7)]) {
      const r = find('fleet.reachability', h);
      const elsewhere = (m: string) => !new RegExp(`^${h.name} → h[56] 10\\.0\\.2\\.15:`).test(m) && !(h === H(4) && m.startsWith(`h4 → h8 ${H(8).ip}:8472/udp`));
      if (r.status !== 'pass') expect(blocked(h).filter(elsewhere), h.name).toEqual([]);
      expect(r.evidence?.paths, h.name).toMatch(new RegExp(`h1 ${H(1).ip.replace(/\./g, '\\.')}:6443/tcp \\(the API server\\): ok`));
    }
  });

  it('flannel\'s UDP 8472 dropped between two hosts is named, both ways; between the others it passes', () => {
    // h8 drops h4's datagrams: h4's probe is never heard, so no ack comes back either.
    expect(blocked(H(4))).toContainEqual(expect.stringMatching(new RegExp(`^h4 → h8 ${ipOf(H(8))}:8472/udp \\(flannel VXLAN\\): no datagram arrived`)));
    expect(blocked(H(8))).toContainEqual(expect.stringMatching(new RegExp(`^h8 → h4 ${ipOf(H(4))}:8472/udp \\(flannel VXLAN\\): no datagram arrived`)));
    expect(find('fleet.reachability', H(7)).evidence?.paths).toMatch(new RegExp(`^h8 ${ipOf(H(8))}:8472/udp \\(flannel VXLAN\\): ok — datagrams arrived$`, 'm'));
    expect(find('fleet.reachability', H(8)).evidence?.paths).toMatch(new RegExp(`^h7 ${ipOf(H(7))}:8472/udp \\(flannel VXLAN\\): ok — datagrams arrived$`, 'm'));
  });

  it('a host without perl runs the probe in python3; one with neither is dialled from through its sshd, its UDP not judged', () => {
    const h2 = find('fleet.reachability', H(2));
    expect(h2.evidence?.paths).toMatch(new RegExp(`^h1 ${ipOf(H(1))}:6443/tcp \\(the API server\\): ok — connected \\(to the probe's listener\\)$`, 'm'));
    expect(h2.evidence?.paths).toMatch(new RegExp(`^h7 ${ipOf(H(7))}:8472/udp \\(flannel VXLAN\\): ok — datagrams arrived$`, 'm'));
    expect(find('fleet.reachability', H(1)).evidence?.paths).toMatch(new RegExp(`^h2 ${ipOf(H(2))}:8472/udp \\(flannel VXLAN\\): ok — datagrams arrived$`, 'm'));
    expect(h2.evidence?.notes ?? '').not.toMatch(/h2 has neither/);
    const h3 = find('fleet.reachability', H(3));
    expect(h3.evidence?.notes).toContain('h3 has neither perl nor python3: flannel\'s UDP 8472 to and from it is not probed');
    expect(h3.evidence?.paths).toMatch(new RegExp(`^h1 ${ipOf(H(1))}:6443/tcp \\(the API server\\): ok — connected \\(to the probe's listener\\)$`, 'm'));
    expect(h3.evidence?.paths).not.toMatch(/udp/);
    expect(find('fleet.reachability', H(1)).evidence?.paths).not.toMatch(/^h3 .*udp/m);
  });

  it('each host is reached over one connection and one exec session: the probe between hosts runs on the collector\'s channel', () => {
    expect(report.results.filter((r) => r.check === 'fleet.reachability' && r.status === 'pass').length).toBeGreaterThan(0);
    for (const h of fleet.hosts) {
      const log = sshdLogs.get(h.name) ?? '';
      expect((log.match(/Accepted publickey/g) ?? []).length, h.name).toBe(1);
      expect((log.match(/Starting session: command/g) ?? []).length, h.name).toBe(1);
    }
  });

  it('the probes leave no listener and no folder behind on any host', async () => {
    for (const h of fleet.hosts) {
      const left = await onHost(h, 'ls -d /tmp/kubecheck-probe.* 2>/dev/null; ss -Hltnup | grep -E ":(6443|10250|2379|2380|8472) " ; true');
      expect(left.stdout.trim(), h.name).toBe('');
    }
  });
});
