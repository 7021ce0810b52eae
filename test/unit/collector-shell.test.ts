// The node collector's shell, run for real (dash and busybox ash) on files made for the test: what it reads
// with builtins instead of forking grep/sed/ip must say what those programs said.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeCollectorScript, parseNodeFacts } from '../../src/collectors/node/index.js';
import { parseDefaultRoutes, parsePersisted } from '../../src/collectors/node/preinstall.js';

const SHELLS = [['/bin/sh'], ['/usr/bin/busybox', 'sh']];
const collector = readFileSync(join(import.meta.dirname, '../../src/collectors/node/collect-node.sh'), 'utf8');
/** One shell function of the collector, by name, as the collector defines it. */
const fn = (name: string) => {
  const m = new RegExp(`^${name}\\(\\) \\{\\n[\\s\\S]*?^\\}\\n`, 'm').exec(collector);
  if (!m) throw new Error(`collect-node.sh has no ${name}()`);
  return m[0];
};

const dir = mkdtempSync(join(tmpdir(), 'kc-collector-shell-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mask, the collector\'s credential masking', () => {
  // What the collector masked with before (sed -E), so the builtin version is held to the same output.
  const SED = 's#(://)[^/@[:space:]"]*@#\\1***@#g';
  const inputs = [
    'HTTPS_PROXY=http://user:secret@proxy.corp:3128',
    'Environment="HTTP_PROXY=http://u:p4ss@h:1" "NO_PROXY=localhost,10.0.0.0/8"',
    'http_proxy=http://a@b@c:80',
    'no_proxy=http://nouser/path@x',
    'ftp://u:p@h http://v:q@k/x',
    'plain text, no URL at all',
    'trailing://',
    'empty=http://@host',
    'spaced=http://u p@h',
    'quoted="http://u:p"@h',
    "single='http://u:s3cr3t@h:8080'",
    'HTTPS_PROXY=https://user%40corp:p%3Ass@proxy:443/',
    '*://weird*@[glob]?',
  ];

  it.each(SHELLS)('masks every URL\'s user:password as sed did (%s)', (...shell) => {
    for (const text of inputs) {
      const sed = spawnSync('sed', ['-E', SED], { input: `${text}\n`, encoding: 'utf8' }).stdout.replace(/\n$/, '');
      const got = spawnSync(shell[0], [...shell.slice(1), '-c', `${fn('mask')}mask "$1"; printf '%s' "$m"`, 'sh', text], { encoding: 'utf8' });
      expect(got.status, text).toBe(0);
      expect(got.stdout, text).toBe(sed);
      for (const secret of ['secret', 'p4ss', 's3cr3t', 'p%3Ass']) if (text.includes(secret)) expect(got.stdout).not.toContain(secret);
    }
  });
});

/**
 * Runs the whole collector (as kubecheck sends it) in network and mount namespaces of its own: the routes
 * of NETWORK, and test files bound over the host's (a path given a record of names is a folder of those files).
 */
function collectWith(shell: string[], files: Record<string, string | Record<string, string>>): { out: string; ipRoutes: string } {
  const binds = Object.entries(files).map(([path, content]) => {
    const bound = mkdtempSync(join(dir, 'bound-'));
    if (typeof content === 'string') {
      writeFileSync(join(bound, 'file'), content);
      return `mount --bind ${join(bound, 'file')} ${path}`;
    } else {
      for (const [name, text] of Object.entries(content)) {
        mkdirSync(dirname(join(bound, name)), { recursive: true });
        writeFileSync(join(bound, name), text);
      }
    }
    return `mount --bind ${bound} ${path}`;
  });
  const script = join(dir, 'collector.sh');
  writeFileSync(script, nodeCollectorScript({ phase: 'pre' }));
  // Then `ip` itself says what the default routes are, in the same namespace: what the collector read them with before.
  const ip = `echo @@ip; ip -j route show default; ip -j -6 route show default`;
  const run = spawnSync('unshare', ['-m', '-n', '--propagation', 'private', 'sh', '-c', `${[...NETWORK, ...binds].join(' && ')} && ${shell.join(' ')} ${script} && ${ip}`], { encoding: 'utf8', maxBuffer: 1 << 26 });
  expect(run.status, run.stderr).toBe(0);
  const at = run.stdout.lastIndexOf('@@ip\n');
  return { out: run.stdout.slice(0, at), ipRoutes: run.stdout.slice(at + 5) };
}

/** The namespace's network: two IPv4 default routes (the NAT one first, by metric), an IPv6 one, and iptables chains. */
const NETWORK = [
  'ip link set lo up',
  'ip link add eth1 type veth peer name eth1p', 'ip addr add 10.0.2.15/24 dev eth1', 'ip link set eth1 up', 'ip link set eth1p up',
  'ip link add eth0 type veth peer name eth0p', 'ip addr add 192.168.56.10/24 dev eth0', 'ip -6 addr add fd00::10/64 dev eth0 nodad', 'ip link set eth0 up', 'ip link set eth0p up',
  'ip route add default via 10.0.2.2 dev eth1 metric 100', 'ip route add default via 192.168.56.1 dev eth0 metric 200',
  'ip -6 route add default via fd00::1 dev eth0',
  // Chains an earlier install's kube-proxy left (iptables is per network namespace).
  'iptables -N KUBE-SERVICES', 'iptables -N KUBE-NODEPORTS', 'iptables -t nat -N KUBE-POSTROUTING', 'iptables -N NOT-KUBE',
];

describe.each(SHELLS)('the collector on made-up host files (%s)', (...shell) => {
  const { out, ipRoutes } = collectWith(shell, {
    '/etc/environment': 'PATH="/usr/bin"\nHTTPS_PROXY=http://builder:hunter2@proxy.corp:3128\nno_proxy=localhost,.svc\n',
    '/etc/systemd/system': { 'containerd.service.d/http-proxy.conf': '[Service]\nEnvironment="HTTP_PROXY=http://svc:pa55w0rd@proxy.corp:3128" "NO_PROXY=10.0.0.0/8"\n' },
    '/etc/sysctl.conf': '# comment\nnet.ipv4.ip_forward = 1\nkernel.pid_max = 65536\n; also a comment\nvm.swappiness=10\n',
    '/etc/sysctl.d': { 'k8s.conf': '  -net/bridge/bridge-nf-call-iptables=1\n', 'README.sysctl': 'net.ipv4.ip_forward = 0\n' },
    '/etc/modules-load.d': { 'k8s.conf': '# modules\nbr_netfilter\noverlay # for containerd\n' },
  });
  const facts = parseNodeFacts(out);

  it('reads proxy settings with credentials masked on the host', () => {
    for (const secret of ['hunter2', 'pa55w0rd']) expect(out).not.toContain(secret);
    const unit = '/etc/systemd/system/containerd.service.d/http-proxy.conf';
    expect(facts.proxy.filter((p) => p.source !== 'env')).toEqual([
      { source: '/etc/environment', name: 'HTTPS_PROXY', value: 'http://***@proxy.corp:3128' },
      { source: '/etc/environment', name: 'no_proxy', value: 'localhost,.svc' },
      { source: unit, name: 'HTTP_PROXY', value: 'http://***@proxy.corp:3128' },
      { source: unit, name: 'NO_PROXY', value: '10.0.0.0/8' },
    ]);
  });

  it('reads the settings a reboot brings back from sysctl.conf and modules-load files', () => {
    expect(facts.persisted.sysctls['net.ipv4.ip_forward']).toEqual({ value: '1', file: '/etc/sysctl.conf' });
    expect(facts.persisted.sysctls['net.bridge.bridge-nf-call-iptables']).toEqual({ value: '1', file: '/etc/sysctl.d/k8s.conf' });
    expect(facts.persisted.sysctls['vm.swappiness']).toEqual({ value: '10', file: '/etc/sysctl.conf' });
    // Keys no check judges are not kept.
    expect(facts.persisted.sysctls['kernel.pid_max']).toBeUndefined();
    expect(facts.persisted.modules).toEqual(expect.arrayContaining([{ name: 'br_netfilter', file: '/etc/modules-load.d/k8s.conf' }, { name: 'overlay', file: '/etc/modules-load.d/k8s.conf' }]));
  });

  it('counts the KUBE-* chains an earlier install left, in every table', () => {
    expect(facts.leftovers.kubeChains).toBe(3);
  });

  it('reads the default routes where the kubelet does, in the kernel\'s order, as `ip route show default` lists them', () => {
    // The unreachable default route every namespace has on lo (IPv6) is not one.
    expect(facts.defaultRoutes).toEqual({ ok: true, value: parseDefaultRoutes(ipRoutes) });
    expect(facts.defaultRoutes).toEqual({ ok: true, value: [
      { family: 'inet', dev: 'eth1', gateway: '10.0.2.2' },
      { family: 'inet', dev: 'eth0', gateway: '192.168.56.1' },
      { family: 'inet6', dev: 'eth0', gateway: 'fd00::1' },
    ] });
  });
});

describe('parsers for the builtin-read sections', () => {
  it('still read what collectors before them printed (recorded outputs)', () => {
    expect(parseDefaultRoutes('[{"dst":"default","gateway":"10.0.2.2","dev":"eth0","protocol":"dhcp"}]\n[]')).toEqual([{ family: 'inet', dev: 'eth0', gateway: '10.0.2.2' }]);
    expect(parsePersisted('sysctl /etc/sysctl.d/k8s.conf:net.ipv4.ip_forward = 1\nmodule /etc/modules-load.d/k8s.conf:overlay\nselinux /etc/selinux/config:SELINUX=enforcing').selinux).toEqual({ file: '/etc/selinux/config', mode: 'enforcing' });
  });
  it('read SELinux\'s mode from its config, not SELINUXTYPE', () => {
    expect(parsePersisted('/etc/selinux/config:SELINUXTYPE=targeted\n/etc/selinux/config:SELINUX=permissive').selinux).toEqual({ file: '/etc/selinux/config', mode: 'permissive' });
  });
  it('take a module that modules.builtin lists as built in', () => {
    const f = parseNodeFacts(`@@kc:meta\nhostname=x\n@@kc:rc=0\n@@kc:modules\noverlay\nbr_netfilter builtin\nkernel/net/netfilter/ipvs/ip_vs.ko\nkernel/net/netfilter/ipvs/ip_vs_rr.ko\n@@kc:rc=0\n`);
    expect(f.modules).toEqual(['overlay', 'br_netfilter', 'ip_vs', 'ip_vs_rr']);
    expect(f.builtinModules).toEqual(['br_netfilter', 'ip_vs', 'ip_vs_rr']);
  });
});
