// Fleet preflight over SSH against real test hosts (network/mount/uts/pid namespaces with their own sshd).
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addNic, createFleet, destroyFleet, listen, setHostname, setProductUuid, setSwaps, setSysctl, type TestFleet, type TestHost,
} from '../../scripts/testhosts.js';
import type { CheckResult, RunResult } from '../../src/core/types.js';
import { ROOT, kubecheckWith } from '../helpers.js';

const BIN = join(ROOT, 'bin/kubecheck.js');
let fleet: TestFleet;
const H = (n: number): TestHost => fleet.hosts[n - 1];

const kubecheck = (...args: string[]) => kubecheckWith({ env: { SSH_AUTH_SOCK: '' }, timeoutMs: 120_000 }, ...args);

/** status of every result as `check target status`, for one host. */
const on = (run: RunResult, target: string) => run.results.filter((r) => r.target === target);
const find = (run: RunResult, check: string, target: string): CheckResult => {
  const r = run.results.find((x) => x.check === check && x.target === target);
  if (!r) throw new Error(`no result for ${check} on ${target}`);
  return r;
};

// 14 hosts: h1-h2 control planes, the rest workers. Faults (one per host or pair):
//   h1 6443 taken by nginx · h3 10250 taken by haproxy · h4 a listener at 30080 · h5 swap on
//   h6+h7 same product_uuid · h8+h9 same MAC (h9's second NIC) · h10+h11 same hostname · h12 ip_forward=0
//   h13 reached with a key it does not accept · h2, h14 healthy · plus one address where no host lives.
const UUID = '4c4c4544-0042-3510-8051-b7c04f4e4d32';

function nativeInventory(): string {
  const lines = [`defaults: {user: root, identityFile: ${fleet.key}, knownHostsFile: ${fleet.knownHosts}, hostKeyPolicy: strict}`, 'nodes:'];
  for (const h of fleet.hosts) {
    const roles = h.index <= 2 ? '[control-plane, etcd]' : '[worker]';
    const extra = h.index === 13 ? `, identityFile: ${fleet.wrongKey}` : '';
    lines.push(`  - {name: ${h.name}, host: ${h.ip}, roles: ${roles}${extra}}`);
  }
  lines.push(`  - {name: gone, host: ${fleet.deadAddress}, roles: [worker]}`);
  return lines.join('\n') + '\n';
}

function kubesprayYaml(): string {
  const hostLine = (h: { name: string; ip: string }, extra = '') => `        ${h.name}: {ansible_host: ${h.ip}${extra}}`;
  return [
    'all:',
    '  vars:',
    '    ansible_user: root',
    `    ansible_ssh_private_key_file: ${fleet.key}`,
    '  hosts:',
    ...fleet.hosts.map((h) => hostLine(h, h.index === 13 ? `, ansible_ssh_private_key_file: ${fleet.wrongKey}` : '').slice(4)),
    hostLine({ name: 'gone', ip: fleet.deadAddress }).slice(4),
    '  children:',
    '    kube_control_plane:',
    '      hosts:',
    ...fleet.hosts.filter((h) => h.index <= 2).map((h) => `        ${h.name}:`),
    '    etcd:',
    '      hosts:',
    ...fleet.hosts.filter((h) => h.index <= 2).map((h) => `        ${h.name}:`),
    '    kube_node:',
    '      hosts:',
    ...fleet.hosts.filter((h) => h.index > 2).map((h) => `        ${h.name}:`),
    '        gone:',
    '    k8s_cluster:',
    '      children:',
    '        kube_control_plane:',
    '        kube_node:',
    '',
  ].join('\n');
}

function ansibleIni(): string {
  return [
    '# the same hosts as an Ansible INI inventory',
    ...fleet.hosts.map((h) => `${h.name} ansible_host=${h.ip}${h.index === 13 ? ` ansible_ssh_private_key_file=${fleet.wrongKey}` : ''}`),
    `gone ansible_host=${fleet.deadAddress}`,
    '',
    '[kube_control_plane]', 'h1', 'h2', '',
    '[etcd]', 'h[1:2]', '',
    '[kube_node]', ...fleet.hosts.filter((h) => h.index > 2).map((h) => h.name), 'gone', '',
    '[k8s_cluster:children]', 'kube_control_plane', 'kube_node', '',
    '[all:vars]', 'ansible_user=root', `ansible_ssh_private_key_file=${fleet.key}`, '',
  ].join('\n');
}

beforeAll(async () => {
  fleet = await createFleet(14, { preinstalled: true });
  await listen(H(1), 'nginx', 'TCP-LISTEN:6443');
  await listen(H(3), 'haproxy', 'TCP-LISTEN:10250');
  await listen(H(4), 'node_exporter', 'TCP-LISTEN:30080');
  setSwaps(H(5), [{ device: '/dev/vdb2', sizeKiB: 2097148 }]);
  setProductUuid(H(6), UUID);
  setProductUuid(H(7), UUID);
  await addNic(H(9), 'eth1', H(8).mac);
  await setHostname(H(10), 'node-a');
  await setHostname(H(11), 'node-a');
  await setSysctl(H(12), 'net.ipv4.ip_forward', '0');
  writeFileSync(join(fleet.dir, 'native.yaml'), nativeInventory());
  writeFileSync(join(fleet.dir, 'hosts.yaml'), kubesprayYaml());
  writeFileSync(join(fleet.dir, 'inventory.ini'), ansibleIni());
}, 180_000);

afterAll(async () => {
  await destroyFleet();
});

describe('fleet preflight over SSH on real test hosts', () => {
  let run: RunResult;
  let junit: string;
  let code: number;

  beforeAll(async () => {
    const out = await kubecheck('preflight', '-i', join(fleet.dir, 'native.yaml'), '--json', join(fleet.dir, 'r.json'), '--junit', join(fleet.dir, 'r.xml'), '--connect-timeout', '3');
    code = out.code;
    run = JSON.parse(readFileSync(join(fleet.dir, 'r.json'), 'utf8'));
    junit = readFileSync(join(fleet.dir, 'r.xml'), 'utf8');
  }, 120_000);

  it('reports each fault on the right host with the right check and status', () => {
    expect(code).toBe(1);
    expect(find(run, 'node.ports', 'h1')).toMatchObject({ status: 'fail', message: expect.stringMatching(/^6443\/tcp \(kube-apiserver\) is taken by nginx \(pid \d+\)/) });
    expect(find(run, 'node.ports', 'h3')).toMatchObject({ status: 'fail', message: expect.stringMatching(/^10250\/tcp \(kubelet\) is taken by haproxy/) });
    expect(find(run, 'node.ports', 'h4')).toMatchObject({ status: 'fail', message: expect.stringMatching(/^30080\/tcp is inside the NodePort range 30000-32767, held by node_exporter/) });
    expect(find(run, 'node.swap', 'h5')).toMatchObject({ status: 'fail', message: 'swap is on: /dev/vdb2 (2.0 GiB)' });
    expect(find(run, 'fleet.product-uuid-unique', 'h6')).toMatchObject({ status: 'fail', message: `product_uuid ${UUID} is also on h7` });
    expect(find(run, 'fleet.product-uuid-unique', 'h7')).toMatchObject({ status: 'fail', message: `product_uuid ${UUID} is also on h6` });
    expect(find(run, 'fleet.mac-unique', 'h8')).toMatchObject({ status: 'fail', message: `MAC ${H(8).mac} (eth0) is also on h9` });
    expect(find(run, 'fleet.mac-unique', 'h9')).toMatchObject({ status: 'fail', message: `MAC ${H(8).mac} (eth1) is also on h8` });
    expect(find(run, 'fleet.hostname-unique', 'h10')).toMatchObject({ status: 'fail', message: "hostname 'node-a' is also the hostname of h11" });
    expect(find(run, 'fleet.hostname-unique', 'h11')).toMatchObject({ status: 'fail', message: "hostname 'node-a' is also the hostname of h10" });
    expect(find(run, 'node.sysctl', 'h12')).toMatchObject({ status: 'fail', message: 'net.ipv4.ip_forward is 0, must be 1' });
  });

  it('gives the host with a wrong key and the unreachable host one error each, with the reason, and skips their other checks', () => {
    const [first, ...others] = on(run, 'h13');
    expect(first).toMatchObject({ status: 'error', code: `${first.check}/unreached`, message: expect.stringContaining('authentication failed for root@10.213.0.22:22') });
    for (const r of others) expect(r).toMatchObject({ status: 'skip', code: `${r.check}/unreached`, message: 'host not reached' });
    const gone = on(run, 'gone');
    expect(gone.filter((r) => r.status === 'error').map((r) => r.message)).toEqual([expect.stringMatching(/^host not reached: (cannot connect to|no SSH handshake with) root@10\.213\.0\.254:22/)]);
    expect(gone.filter((r) => r.status === 'skip')).toHaveLength(on(run, 'h2').length - 1);
    // The error is on the suite's first check; JUnit shows it as that host's one <error>.
    expect(gone.find((r) => r.status === 'error')?.check).toBe(run.results[0].check);
    expect(junit).toMatch(/<testsuite name="gone"[^>]*errors="1"/);
    expect(run.targets?.filter((t) => !t.reached).map((t) => t.name)).toEqual(['gone', 'h13']);
    expect(run.targets?.filter((t) => t.reached)).toHaveLength(13);
  });

  it('passes the healthy hosts, and the faulty hosts on every other check', () => {
    const faults = new Set(['node.ports h1', 'node.ports h3', 'node.ports h4', 'node.swap h5', 'fleet.product-uuid-unique h6', 'fleet.product-uuid-unique h7',
      'fleet.mac-unique h8', 'fleet.mac-unique h9', 'fleet.hostname-unique h10', 'fleet.hostname-unique h11', 'node.sysctl h12',
      // A renamed host's new name is in no /etc/hosts: kubeadm warns, and so does node.hostname.
      'node.hostname h10', 'node.hostname h11']);
    expect(find(run, 'node.hostname', 'h10')).toMatchObject({ status: 'warn', code: 'node.hostname/unresolvable' });
    // This machine's kernel runs cgroup v1: a fact of every host here, which kubeadm warns about too.
    const machine = (r: CheckResult) => r.check === 'node.system' && r.status === 'warn' && r.code === 'node.system/cgroup-v1';
    const unexpected = run.results
      .filter((r) => r.target !== 'h13' && r.target !== 'gone' && !faults.has(`${r.check} ${r.target}`))
      .filter((r) => !(r.status === 'pass' || machine(r)));
    expect(unexpected.map((r) => `${r.check} ${r.target} ${r.status}: ${r.message}`)).toEqual([]);
    expect(on(run, 'h2').every((r) => r.status === 'pass' || machine(r))).toBe(true);
    // The real runtime answered the CRI, the real kubelet and kubeadm were found and asked their version.
    expect(find(run, 'node.runtime', 'h2').message).toMatch(/containerd/);
    expect(find(run, 'node.kubelet', 'h2').message).toMatch(/^kubelet v1\.33\.\d+ installed/);
    expect(find(run, 'node.time-sync', 'h2').message).toMatch(/^chronyd runs/);
  });

  it('writes one JUnit testsuite per host', () => {
    const suites = [...junit.matchAll(/<testsuite name="([^"]+)"/g)].map((m) => m[1]);
    expect(suites).toEqual(['gone', ...fleet.hosts.map((h) => h.name)]);
    expect(junit).toMatch(/<testsuite name="h5"[^>]*failures="1"/);
  });

  it('gives the same results from a kubespray hosts.yaml and from an Ansible INI inventory', async () => {
    const brief = (r: RunResult) => r.results.map((x) => `${x.check} ${x.target} ${x.status} ${x.message.replace(/pid \d+/g, 'pid N').replace(/clock within [\d.]+ s/, 'clock within')}`);
    const yaml = await kubecheck('preflight', '-i', join(fleet.dir, 'hosts.yaml'), '--known-hosts', fleet.knownHosts, '-o', 'json', '--connect-timeout', '3');
    const ini = await kubecheck('preflight', '-i', join(fleet.dir, 'inventory.ini'), '--known-hosts', fleet.knownHosts, '-o', 'json', '--connect-timeout', '3');
    expect(yaml.code).toBe(1);
    expect(brief(JSON.parse(yaml.stdout))).toEqual(brief(run));
    expect(brief(JSON.parse(ini.stdout))).toEqual(brief(run));
  }, 120_000);
});

describe('SSH edge cases on real test hosts', () => {
  it('--limit picks hosts by name or role', async () => {
    const out = await kubecheck('preflight', '-i', join(fleet.dir, 'native.yaml'), '--limit', 'control-plane,h14', '-o', 'json', '--only', 'node.swap');
    expect(JSON.parse(out.stdout).results.map((r: CheckResult) => r.target)).toEqual(['h1', 'h2', 'h14']);
  });

  it('exits 3 when no host can be reached', async () => {
    const out = await kubecheck('preflight', '--hosts', `root@${fleet.deadAddress}`, '--connect-timeout', '2', '-q');
    expect(out.code).toBe(3);
  });

  it('refuses a changed host key loudly, refuses an unknown one under strict, and learns it with accept-new', async () => {
    const bad = join(fleet.dir, 'bad_known_hosts');
    const otherKey = readFileSync(join(H(2).dir, 'ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    writeFileSync(bad, `${H(1).ip} ${otherKey}\n`);
    const mismatch = await kubecheck('preflight', '--hosts', `root@${H(1).ip}`, '--identity-file', fleet.key, '--known-hosts', bad, '-o', 'json', '--only', 'node.swap');
    expect(mismatch.code).toBe(3);
    expect(JSON.parse(mismatch.stdout).results[0].message).toContain(`HOST KEY MISMATCH for ${H(1).ip}`);

    const empty = join(fleet.dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const strict = await kubecheck('preflight', '--hosts', `root@${H(1).ip}`, '--identity-file', fleet.key, '--known-hosts', empty, '-o', 'json', '--only', 'node.swap');
    expect(JSON.parse(strict.stdout).results[0].message).toContain('is not in');
    const learn = await kubecheck('preflight', '--hosts', `root@${H(1).ip}`, '--identity-file', fleet.key, '--known-hosts', empty, '--host-key-policy', 'accept-new', '-o', 'json', '--only', 'node.swap');
    expect(learn.code).toBe(0);
    expect(readFileSync(empty, 'utf8')).toContain(`${H(1).ip} ssh-ed25519 `);
    const again = await kubecheck('preflight', '--hosts', `root@${H(1).ip}`, '--identity-file', fleet.key, '--known-hosts', empty, '-o', 'json', '--only', 'node.swap');
    expect(again.code).toBe(0);
  }, 60_000);

  it("acknowledges sshd's host-key announcement without asking it to prove every key (a plain ssh2 client asks)", async () => {
    // The baseline: a plain ssh2 client on the same host gets the announcement and has the keys proved.
    const { default: ssh2 } = await import('ssh2');
    const plain = new ssh2.Client();
    const proved = await new Promise<number>((resolve, reject) => {
      plain.on('hostkeys', (keys: unknown[]) => resolve(keys.length)).on('error', reject);
      plain.connect({ host: H(2).ip, username: 'root', privateKey: readFileSync(fleet.key), hostVerifier: () => true, readyTimeout: 10_000 });
      setTimeout(() => resolve(-1), 10_000);
    });
    plain.end();
    expect(proved).toBe(1);

    const { SshConnector } = await import('../../src/transports/ssh.js');
    const connector = new SshConnector({ connectTimeoutMs: 10_000 });
    const signal = new AbortController().signal;
    try {
      const transport = await connector.openTransport({ name: 'h2', host: H(2).ip, port: 22, user: 'root', identityFiles: [fleet.key], knownHostsFiles: [fleet.knownHosts], hostKeyPolicy: 'strict' }, signal);
      const client = (transport as unknown as { client: import('ssh2').Client }).client;
      const proto = (client as unknown as { _protocol: { openssh_hostKeysProve: (...a: unknown[]) => void } })._protocol;
      let asked = 0;
      const prove = proto.openssh_hostKeysProve.bind(proto);
      proto.openssh_hostKeysProve = (...a: unknown[]) => {
        asked++;
        prove(...a);
      };
      let announced = 0;
      client.on('hostkeys', () => announced++);
      // Several round trips: the announcement (sent right after authentication) has been read by now.
      for (let i = 0; i < 3; i++) expect((await transport.exec('echo ok', { timeoutMs: 10_000, signal })).stdout).toBe('ok\n');
      expect({ asked, announced }).toEqual({ asked: 0, announced: 0 });
      await transport.close();
    } finally {
      await connector.close();
    }
  });

  it('reaches a host through a jump host (proxyJump), like ssh -J', async () => {
    const inv = join(fleet.dir, 'jump.yaml');
    writeFileSync(inv, `defaults: {identityFile: ${fleet.key}, knownHostsFile: ${fleet.knownHosts}}\nnodes:\n  - {name: behind, host: ${H(14).ip}, proxyJump: root@${H(2).ip}}\n`);
    const out = await kubecheck('preflight', '-i', inv, '-o', 'json', '--only', 'fleet.hostname-unique');
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout).results[0]).toMatchObject({ target: 'behind', status: 'pass', message: "hostname 'h14' is unique" });
  });

  it('an Ansible directory and an ssh_config: each host reached where Ansible and ssh would go (an alias, a second key, a jump host from ssh_config)', async () => {
    const base = join(fleet.dir, 'ansible-ssh');
    mkdirSync(join(base, 'inventory', 'group_vars', 'all'), { recursive: true });
    mkdirSync(join(base, 'inventory', 'host_vars'), { recursive: true });
    writeFileSync(join(base, 'inventory', 'hosts.yaml'), [
      'all:', '  children:',
      '    kube_control_plane:', '      hosts:', '        node1: {ansible_host: edge-1}',
      '    kube_node:', '      hosts:', `        node2: {ansible_host: ${H(2).ip}}`, '        node3: {ansible_host: behind-3}', '',
    ].join('\n'));
    // Ansible's key is one the hosts refuse: ssh offers ssh_config's next, as it would.
    writeFileSync(join(base, 'inventory', 'group_vars', 'all', 'all.yml'), `ansible_user: root\nansible_ssh_private_key_file: ${fleet.wrongKey}\n`);
    writeFileSync(join(base, 'inventory', 'host_vars', 'node2.yml'), 'ansible_port: 22\n');
    const sshConfig = join(base, 'ssh.conf');
    writeFileSync(sshConfig, [
      'Host edge-1', `    HostName ${H(1).ip}`,
      'Host behind-3', `    HostName ${H(14).ip}`, '    ProxyJump jumpbox',
      'Host jumpbox', `    HostName ${H(2).ip}`, '    User root',
      'Host *', `    IdentityFile ${fleet.key}`, '    IdentitiesOnly yes', `    UserKnownHostsFile ${fleet.knownHosts}`, '    StrictHostKeyChecking yes', '',
    ].join('\n'));
    const out = await kubecheck('preflight', '-i', join(base, 'inventory'), '--ssh-config', sshConfig, '--only', 'fleet.hostname-unique', '-o', 'json');
    expect(out.code, out.stdout + out.stderr).toBe(0);
    const run = JSON.parse(out.stdout) as RunResult;
    // The hostname each host reports says which machine the connection reached.
    expect(run.results.map((r) => [r.target, r.status, r.message])).toEqual([
      ['node1', 'pass', "hostname 'h1' is unique"], ['node2', 'pass', "hostname 'h2' is unique"], ['node3', 'pass', "hostname 'h14' is unique"],
    ]);
    expect(run.targets?.map((t) => [t.name, t.reached, t.reachedBy])).toEqual([['node1', true, 'ssh'], ['node2', true, 'ssh'], ['node3', true, 'ssh']]);
    const shown = await kubecheck('inventory', '-i', join(base, 'inventory'), '--ssh-config', sshConfig);
    expect(shown.stdout).toMatch(new RegExp(`node1  root@${H(1).ip.replace(/\./g, '\\.')} `));
    expect(shown.stdout).toMatch(/address\s+\S+\s+← .*ssh\.conf:2/);
    expect(shown.stdout).toMatch(new RegExp(`jump\\s+root@${H(2).ip.replace(/\./g, '\\.')}\\s+← .*ssh\\.conf:5`));
  });

  it('Ctrl-C during a run closes the connections and exits 130 with the report', async () => {
    // A black hole: sshd's port answers TCP but never speaks SSH, so the handshake would wait for the timeout.
    await listen(H(14), 'nginx', 'TCP-LISTEN:2222', 'sleep 120');
    const child = spawn(process.execPath, [BIN, 'preflight', '--hosts', `root@${H(14).ip}:2222,root@${H(2).ip}`, '--known-hosts', fleet.knownHosts,
      '--identity-file', fleet.key, '--host-key-policy', 'off', '--connect-timeout', '60', '-o', 'json'], { env: { ...process.env, CI: 'true', SSH_AUTH_SOCK: '' } });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await new Promise((r) => setTimeout(r, 1500));
    const started = Date.now();
    child.kill('SIGINT');
    const code = await exited;
    expect(code).toBe(130);
    expect(Date.now() - started).toBeLessThan(5_000);
    const report = JSON.parse(stdout) as RunResult;
    expect(report.interrupted).toBe(true);
    expect(report.results.find((r) => r.target.endsWith(':2222'))?.status).toBe('error');
  }, 30_000);
});
