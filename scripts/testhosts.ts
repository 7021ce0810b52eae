// Real Linux test hosts on this machine: each a network + mount + uts + pid namespace on a private bridge,
// with its own sshd, IP, MAC, hostname, product_uuid, sysctls, swap table, CNI dirs and listening
// processes. Faults are injected by changing that real state. Teardown always runs (and a new fleet first
// removes what a crashed run left behind).
//
//   node dist/scripts/testhosts.js up 5      # create 5 hosts, print an inventory
//   node dist/scripts/testhosts.js down      # remove them
import { randomUUID } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';
import { assetPath } from '../src/core/assets.js';

export const FLEET_DIR = '/tmp/kubecheck-hosts';
const BRIDGE = 'kcbr0';
const SUBNET = '10.213.0';
const GATEWAY = `${SUBNET}.1`;
/** Mount points the hosts bind their own folders over; created on this machine only if missing, removed after. */
const MOUNT_POINTS = ['/opt/cni/bin', '/etc/cni/net.d', '/etc/kubernetes', '/var/lib/kubelet', '/var/lib/cni'];
/** Program names the hosts' listeners can run under (copies of socat, so ss shows these names). */
export const PROGRAMS = ['kubelet', 'kube-apiserver', 'etcd', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'containerd', 'nginx', 'node_exporter', 'haproxy', 'flanneld'];

const sh = $({ quiet: true, timeout: '60s' });
const shNothrow = $({ quiet: true, nothrow: true, timeout: '60s' });

export interface TestHost {
  name: string;
  index: number;
  ip: string;
  mac: string;
  netns: string;
  /** The host's own folder on this machine (bound into the host over its system paths). */
  dir: string;
  /** PID (as seen from this machine) of the host's init, for nsenter. */
  pid: number;
}

export interface TestFleet {
  dir: string;
  hosts: TestHost[];
  /** The client key every host accepts, and one no host accepts. */
  key: string;
  wrongKey: string;
  knownHosts: string;
  /** An address on the test bridge where no host lives (connections to it fail). */
  deadAddress: string;
}

const hostName = (i: number) => `h${i}`;
const macOf = (i: number) => `02:6b:63:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;

function fleetState(): { hosts: TestHost[]; createdMountPoints: string[] } | null {
  const path = join(FLEET_DIR, 'state.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { hosts: TestHost[]; createdMountPoints: string[] }) : null;
}

/** Removes every test host, the bridge and their folders; safe to call when nothing exists. */
export async function destroyFleet(): Promise<void> {
  const state = fleetState();
  for (const h of state?.hosts ?? []) await shNothrow`kill -9 ${h.pid}`;
  const list = await shNothrow`ip -o netns list`;
  for (const line of list.stdout.split('\n')) {
    const ns = line.split(' ')[0];
    if (/^kc-h\d+$/.test(ns)) {
      // Kill whatever still runs in the namespace (its init and children), then delete it.
      const pids = await shNothrow`ip netns pids ${ns}`;
      for (const pid of pids.stdout.split('\n').filter(Boolean)) await shNothrow`kill -9 ${pid}`;
      await shNothrow`ip netns del ${ns}`;
    }
  }
  const links = await shNothrow`ip -o link show`;
  for (const m of links.stdout.matchAll(/^\d+: (kc[vx]\d+)[@:]/gm)) await shNothrow`ip link del ${m[1]}`;
  await shNothrow`ip link del ${BRIDGE}`;
  for (const dir of state?.createdMountPoints ?? []) await shNothrow`rmdir ${dir}`;
  rmSync(FLEET_DIR, { recursive: true, force: true });
}

function initScript(h: TestHost, hostname: string): string {
  const d = h.dir;
  return `#!/bin/sh
# PID 1 of test host ${h.name}: give it its own view of the system, then run sshd.
set -e
hostname ${hostname}
mount -t tmpfs -o size=16m tmpfs /run
mkdir -p /run/sshd /run/flannel /run/containerd
mount --bind ${d}/run-flannel /run/flannel
mount --bind ${d}/run-containerd /run/containerd
mount -t sysfs sysfs ${d}/sys
mount -t tmpfs -o size=1m tmpfs /sys/class
mkdir -p /sys/class/net /sys/class/dmi/id
mount --bind ${d}/sys/class/net /sys/class/net
touch /sys/class/dmi/id/product_uuid
mount --bind ${d}/product_uuid /sys/class/dmi/id/product_uuid
mount --bind ${d}/swaps /proc/swaps
for f in fstab hosts hostname; do mount --bind ${d}/$f /etc/$f; done
mount --bind ${d}/opt-cni-bin /opt/cni/bin
mount --bind ${d}/etc-cni-net.d /etc/cni/net.d
mount --bind ${d}/etc-kubernetes /etc/kubernetes
mount --bind ${d}/var-lib-kubelet /var/lib/kubelet
mount --bind ${d}/var-lib-cni /var/lib/cni
# A host ready for kubeadm has its container runtime answering on its CRI socket.
${FLEET_DIR}/bin/containerd UNIX-LISTEN:/run/containerd/containerd.sock,unlink-early,fork SYSTEM:true >/dev/null 2>&1 &
/usr/sbin/sshd -D -e -f ${d}/sshd_config 2>>${d}/sshd.log &
echo ready > ${d}/ready
while :; do sleep 3600; done
`;
}

function sshdConfig(h: TestHost, fleetDir: string): string {
  return [
    `ListenAddress ${h.ip}`,
    'Port 22',
    `HostKey ${h.dir}/ssh_host_ed25519_key`,
    `PidFile ${h.dir}/sshd.pid`,
    `AuthorizedKeysFile ${fleetDir}/authorized_keys`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    'MaxStartups 500:30:1000',
    'MaxSessions 50',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n');
}

async function writeHostFiles(h: TestHost, fleetDir: string, uuid: string): Promise<void> {
  const d = h.dir;
  for (const sub of ['sys', 'run-flannel', 'run-containerd', 'opt-cni-bin', 'etc-cni-net.d', 'etc-kubernetes/pki', 'var-lib-kubelet/pki', 'var-lib-cni']) {
    mkdirSync(join(d, sub), { recursive: true });
  }
  writeFileSync(join(d, 'product_uuid'), `${uuid}\n`);
  // The base CNI plugins a kubeadm install brings (kubernetes-cni); flannel's own arrives with its DaemonSet.
  for (const plugin of ['bridge', 'host-local', 'loopback', 'portmap']) writeFileSync(join(d, 'opt-cni-bin', plugin), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  writeFileSync(join(d, 'swaps'), 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n');
  writeFileSync(join(d, 'fstab'), '# test host fstab\nUUID=0000 / ext4 defaults 0 1\n');
  writeFileSync(join(d, 'hosts'), `127.0.0.1 localhost\n${h.ip} ${h.name}\n`);
  writeFileSync(join(d, 'hostname'), `${h.name}\n`);
  writeFileSync(join(d, 'sshd_config'), sshdConfig(h, fleetDir));
  await sh`ssh-keygen -q -t ed25519 -N ${''} -C ${h.name} -f ${join(d, 'ssh_host_ed25519_key')}`;
}

/** Creates `count` hosts h1..hN, each healthy for a pre-install audit (no swap, ip_forward=1, ports free). */
export async function createFleet(count: number): Promise<TestFleet> {
  if (count < 1 || count > 200) throw new Error('between 1 and 200 hosts');
  await destroyFleet();
  mkdirSync(join(FLEET_DIR, 'bin'), { recursive: true });
  const createdMountPoints = MOUNT_POINTS.filter((p) => !existsSync(p));
  for (const p of createdMountPoints) mkdirSync(p, { recursive: true });

  const socat = (await sh`which socat`).stdout.trim();
  for (const name of PROGRAMS) {
    copyFileSync(socat, join(FLEET_DIR, 'bin', name));
    chmodSync(join(FLEET_DIR, 'bin', name), 0o755);
  }
  // What the kubelet's /healthz answers when healthy.
  writeFileSync(join(FLEET_DIR, 'bin', 'healthz-ok'), "#!/bin/sh\nprintf 'HTTP/1.0 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok'\n", { mode: 0o755 });
  const key = join(FLEET_DIR, 'id_ed25519');
  const wrongKey = join(FLEET_DIR, 'wrong_ed25519');
  await sh`ssh-keygen -q -t ed25519 -N ${''} -C kubecheck-test -f ${key}`;
  await sh`ssh-keygen -q -t ed25519 -N ${''} -C kubecheck-wrong -f ${wrongKey}`;
  writeFileSync(join(FLEET_DIR, 'authorized_keys'), readFileSync(`${key}.pub`));

  await sh`ip link add ${BRIDGE} type bridge`;
  await sh`ip addr add ${GATEWAY}/24 dev ${BRIDGE}`;
  await sh`ip link set ${BRIDGE} up`;

  const hosts: TestHost[] = [];
  for (let i = 1; i <= count; i++) {
    const h: TestHost = { name: hostName(i), index: i, ip: `${SUBNET}.${9 + i}`, mac: macOf(i), netns: `kc-h${i}`, dir: join(FLEET_DIR, hostName(i)), pid: 0 };
    await writeHostFiles(h, FLEET_DIR, randomUUID());
    await sh`ip netns add ${h.netns}`;
    await sh`ip link add kcv${i} type veth peer name kce${i}`;
    await sh`ip link set kcv${i} master ${BRIDGE} up`;
    await sh`ip link set kce${i} netns ${h.netns}`;
    await sh`ip -n ${h.netns} link set kce${i} name eth0`;
    await sh`ip -n ${h.netns} link set eth0 address ${h.mac}`;
    await sh`ip -n ${h.netns} addr add ${h.ip}/24 dev eth0`;
    await sh`ip -n ${h.netns} link set eth0 up`;
    await sh`ip -n ${h.netns} link set lo up`;
    await sh`ip netns exec ${h.netns} sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1`;
    writeFileSync(join(h.dir, 'init.sh'), initScript(h, h.name));
    // setsid + nohup: the host outlives this process until destroyFleet kills it.
    const unshare = `ip netns exec ${h.netns} unshare --mount --uts --pid --fork --mount-proc --propagation private sh ${h.dir}/init.sh`;
    await sh`setsid sh -c ${`${unshare} >${h.dir}/init.log 2>&1 </dev/null &`}`;
    hosts.push(h);
  }
  for (const h of hosts) {
    h.pid = await waitForInit(h);
  }
  writeFileSync(join(FLEET_DIR, 'state.json'), JSON.stringify({ hosts, createdMountPoints }, null, 2));
  await waitForSshd(hosts);

  const knownHosts = join(FLEET_DIR, 'known_hosts');
  writeFileSync(knownHosts, hosts.map((h) => `${h.ip} ${readFileSync(join(h.dir, 'ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`).join(''));
  return { dir: FLEET_DIR, hosts, key, wrongKey, knownHosts, deadAddress: `${SUBNET}.254` };
}

async function waitForInit(h: TestHost): Promise<number> {
  for (let tries = 0; tries < 100; tries++) {
    if (existsSync(join(h.dir, 'ready'))) {
      // The host's init is the process in its netns whose parent is unshare.
      const pids = (await sh`ip netns pids ${h.netns}`).stdout.split('\n').filter(Boolean).map(Number);
      for (const pid of pids) {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        if (/^NSpid:\s+\d+\s+1$/m.test(status)) return pid;
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`test host ${h.name} did not start: ${readFileSync(join(h.dir, 'init.log'), 'utf8')}`);
}

async function waitForSshd(hosts: TestHost[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (const h of hosts) {
    while (!(await shNothrow`ip netns exec ${h.netns} sh -c ${`ss -Hltn 'sport = :22' | grep -q ${h.ip}`}`).ok) {
      if (Date.now() > deadline) throw new Error(`sshd on ${h.name} did not start: ${readFileSync(join(h.dir, 'sshd.log'), 'utf8')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

// ---- Fault injection: each changes the host's real state ----

/** Runs a shell command inside a host's namespaces (as its root). */
export async function onHost(h: TestHost, command: string) {
  return sh`nsenter -t ${h.pid} -m -u -n -p -i sh -c ${command}`;
}

/**
 * Starts a listener under a program name (a socat copy), e.g. `nginx` on 10250/tcp. Each connection runs
 * `command` (default: close at once), a path or a simple command without socat's special characters.
 */
export async function listen(h: TestHost, program: string, spec: string, command = 'true'): Promise<void> {
  const bin = join(FLEET_DIR, 'bin', program);
  const target = `SYSTEM:${JSON.stringify(command)}`;
  await onHost(h, `setsid ${bin} ${spec},fork,reuseaddr ${target} >/dev/null 2>&1 </dev/null &`);
  const port = /LISTEN:(\d+)/.exec(spec)?.[1];
  const unix = /UNIX-LISTEN:([^,]+)/.exec(spec)?.[1];
  for (let tries = 0; tries < 100; tries++) {
    const probe = port
      ? `ss -Hltnu | grep -q ':${port} '`
      : `ss -Hxl | grep -q '${unix}'`;
    if ((await shNothrow`nsenter -t ${h.pid} -m -n sh -c ${probe}`).ok) return;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`${program} did not start listening on ${h.name} (${spec})`);
}

/** A kubelet answering /healthz on 10248 and serving 10250: a post-install node. */
export async function startKubelet(h: TestHost): Promise<void> {
  await listen(h, 'kubelet', 'TCP-LISTEN:10248,bind=127.0.0.1', join(FLEET_DIR, 'bin', 'healthz-ok'));
  await listen(h, 'kubelet', 'TCP-LISTEN:10250');
}

export async function stopProgram(h: TestHost, program: string): Promise<void> {
  await onHost(h, `pkill -x ${program.slice(0, 15)} || true`);
}

export function setSwaps(h: TestHost, devices: { device: string; sizeKiB: number }[]): void {
  writeFileSync(join(h.dir, 'swaps'), 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n' +
    devices.map((d) => `${d.device.padEnd(40)}partition\t${d.sizeKiB}\t\t0\t\t-2\n`).join(''));
}

export function setFile(h: TestHost, relative: string, content: string, mode = 0o644): void {
  const path = join(h.dir, relative);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, mode);
}

export function setProductUuid(h: TestHost, uuid: string): void {
  writeFileSync(join(h.dir, 'product_uuid'), `${uuid}\n`);
}

export async function setHostname(h: TestHost, name: string): Promise<void> {
  await onHost(h, `hostname ${name}`);
}

export async function setSysctl(h: TestHost, key: string, value: string): Promise<void> {
  await sh`ip netns exec ${h.netns} sysctl -qw ${`${key}=${value}`}`;
}

/** Adds a Linux bridge (e.g. cni0) with an address, as the bridge CNI plugin leaves it. */
export async function addBridge(h: TestHost, name: string, cidr?: string): Promise<void> {
  await sh`ip -n ${h.netns} link add ${name} type bridge`;
  if (cidr) await sh`ip -n ${h.netns} addr add ${cidr} dev ${name}`;
  await sh`ip -n ${h.netns} link set ${name} up`;
}

/** Adds flannel's VXLAN link (flannel.1, VNI 1, UDP 8472) on eth0. */
export async function addVxlan(h: TestHost, cidr: string): Promise<void> {
  await sh`ip -n ${h.netns} link add flannel.1 type vxlan id 1 dev eth0 dstport 8472 nolearning`;
  await sh`ip -n ${h.netns} addr add ${cidr} dev flannel.1`;
  await sh`ip -n ${h.netns} link set flannel.1 up`;
}

/** A host as a working flannel node leaves it: plugins, conflist, subnet.env, cni0 and flannel.1. */
export async function makeFlannelNode(h: TestHost, subnet: string): Promise<void> {
  setFile(h, 'var-lib-kubelet/pki/kubelet-client-current.pem', readFileSync(join(CERTS, 'kubelet-client-valid.pem'), 'utf8'));
  setFile(h, 'opt-cni-bin/flannel', '#!/bin/sh\nexit 0\n', 0o755);
  setFile(h, 'etc-cni-net.d/10-flannel.conflist', JSON.stringify({ name: 'cbr0', cniVersion: '0.3.1', plugins: [{ type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } }, { type: 'portmap', capabilities: { portMappings: true } }] }, null, 2));
  const [a, b, c] = subnet.split('.');
  setFile(h, 'run-flannel/subnet.env', `FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=${subnet}/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n`);
  await addBridge(h, 'cni0', `${subnet}/24`);
  await addVxlan(h, `${a}.${b}.${c}.0/32`);
}

/** The host faults doctor and the CNI checks know, each made by changing the host's real state. */
export type HostFault =
  | 'kubelet-down' | 'runtime-down' | 'swap-on' | 'flannel-missing' | 'flannel-not-executable' | 'no-cni-config'
  | 'no-subnet-env' | 'stale-cni0' | 'expired-apiserver-cert' | 'expired-kubelet-cert';

const CERTS = assetPath('fixtures/certs');

/** Breaks one thing on a host set up by makeFlannelNode (and startKubelet). */
export async function injectFault(h: TestHost, fault: HostFault): Promise<void> {
  switch (fault) {
    case 'kubelet-down': return stopProgram(h, 'kubelet');
    case 'runtime-down': return stopProgram(h, 'containerd');
    case 'swap-on': return setSwaps(h, [{ device: '/swapfile', sizeKiB: 2097152 }]);
    case 'flannel-missing': return rmSync(join(h.dir, 'opt-cni-bin', 'flannel'), { force: true });
    case 'flannel-not-executable': return chmodSync(join(h.dir, 'opt-cni-bin', 'flannel'), 0o644);
    case 'no-cni-config': return rmSync(join(h.dir, 'etc-cni-net.d', '10-flannel.conflist'), { force: true });
    case 'no-subnet-env': return rmSync(join(h.dir, 'run-flannel', 'subnet.env'), { force: true });
    case 'stale-cni0':
      // Re-joined with a new subnet: cni0 keeps an address of the old one.
      await sh`ip -n ${h.netns} link delete cni0`;
      return addBridge(h, 'cni0', `10.244.${200 + (h.index % 50)}.1/24`);
    case 'expired-apiserver-cert': return setFile(h, 'etc-kubernetes/pki/apiserver.crt', readFileSync(join(CERTS, 'apiserver-expired.crt'), 'utf8'));
    case 'expired-kubelet-cert': return setFile(h, 'var-lib-kubelet/pki/kubelet-client-current.pem', readFileSync(join(CERTS, 'kubelet-client-expired.pem'), 'utf8'));
  }
}

/** Adds a second NIC with the given MAC: a veth whose peer stays unattached on this machine. */
export async function addNic(h: TestHost, name: string, mac: string): Promise<void> {
  const peer = `kcx${h.index}`;
  await sh`ip link add ${peer} type veth peer name kcy${h.index}`;
  await sh`ip link set kcy${h.index} netns ${h.netns}`;
  await sh`ip -n ${h.netns} link set kcy${h.index} name ${name}`;
  await sh`ip -n ${h.netns} link set ${name} address ${mac} up`;
}

/** Writes a native inventory of the fleet (roles per host; default: h1 control plane, the rest workers). */
export function writeInventory(fleet: TestFleet, file: string, roles: (h: TestHost) => string = (h) => (h.index === 1 ? 'control-plane, etcd' : 'worker')): string {
  const path = join(fleet.dir, file);
  writeFileSync(path, [
    `defaults: {user: root, identityFile: ${fleet.key}, knownHostsFile: ${fleet.knownHosts}, hostKeyPolicy: strict}`,
    'nodes:',
    ...fleet.hosts.map((h) => `  - {name: ${h.name}, host: ${h.ip}, roles: [${roles(h)}]}`),
    '',
  ].join('\n'));
  return path;
}

// ---- CLI ----

if (import.meta.url === `file://${process.argv[1]}`) {
  const [command, count] = process.argv.slice(2);
  if (command === 'up') {
    const fleet = await createFleet(Number(count ?? 3));
    const inventory = writeInventory(fleet, 'inventory.yaml');
    console.log(`${fleet.hosts.length} test hosts up; inventory: ${inventory}`);
  } else if (command === 'down') {
    await destroyFleet();
    console.log('test hosts removed');
  } else {
    console.error('usage: testhosts.js up [N] | down');
    process.exitCode = 2;
  }
}
