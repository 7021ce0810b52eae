// Real Linux test hosts on this machine: each a network + mount + uts + pid namespace on a private bridge,
// with its own sshd, IP, MAC, hostname, product_uuid, sysctls, swap table, CNI dirs and listening
// processes. Faults are injected by changing that real state. Teardown always runs (and a new fleet first
// removes what a crashed run left behind).
//
//   node dist/scripts/testhosts.js up 5      # create 5 hosts, print an inventory
//   node dist/scripts/testhosts.js down      # remove them
import { randomUUID } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { $ } from 'zx';
import { assetPath } from '../src/core/assets.js';
import { BIN_DIR } from './controlplane.js';
import { NODE_BIN_DIR } from './node-binaries.js';
import { containerdConfig, place, settingsFiles, systemdUnits } from './node-layout.js';

/** Where a set of test hosts lives: its folder, bridge, /24 and the prefixes of its namespaces and links. */
export interface HostNetwork {
  dir: string;
  bridge: string;
  /** The /24's first three octets; the bridge (this machine) is .1. */
  subnet: string;
  /** A host's network namespace is this prefix + its name. */
  netnsPrefix: string;
  /** Its veth pair is `${veth}v${i}` (on the bridge) / `${veth}e${i}` (eth0 inside); extra NICs `${veth}x${i}`. */
  veth: string;
}

/** The hosts of the host tests (tests create and destroy them per file). */
export const TEST_NETWORK: HostNetwork = { dir: '/tmp/kubecheck-hosts', bridge: 'kcbr0', subnet: '10.213.0', netnsPrefix: 'kc-', veth: 'kc' };
export const FLEET_DIR = TEST_NETWORK.dir;
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
  /** Prefix of the host's links on this machine (see HostNetwork.veth). */
  veth: string;
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

/** How a host is set up besides the defaults (extra folders, a default route, what its init starts). */
export interface HostSetup {
  /** More of the host's own folders bound over system paths: folder (under the host's dir) → path. */
  mounts?: Record<string, string>;
  /** A stand-in containerd (socat) answering on /run/containerd/containerd.sock, as a host ready for kubeadm has. Default true. */
  runtimeStandIn?: boolean;
  /** A default route through this machine's end of the bridge (kubeadm, kubelet and flannel pick their address by it). */
  defaultRoute?: boolean;
  /** More /etc/hosts lines (every host of the set is listed anyway). */
  hostsEntries?: string[];
  /** The host's own /etc/resolv.conf (default: the machine's). */
  resolvConf?: string;
  /** Shell lines the host's init runs once its mounts are in place, before sshd starts. */
  boot?: string[];
  /**
   * The cgroup hierarchies mounted under /sys/fs/cgroup, by controller (`cpu`, `memory`, `name=systemd`,
   * `unified` for cgroup2). Default: all this machine mounts. (`ip netns exec` gives a host a fresh /sys,
   * so without this a host would have no cgroups at all.)
   */
  cgroups?: string[];
  /**
   * Laid out as the install guides leave a host before `kubeadm init/join`: the real kubelet, kubeadm and
   * crictl in /usr/local/bin, the packages' units enabled, sysctl.d and modules-load.d files, a real
   * containerd (its own root and socket, the guides' SystemdCgroup = true) and a real chronyd (not setting
   * the clock). Needs the node binaries built (node dist/scripts/realcluster.js build).
   */
  preinstalled?: boolean;
}

const PREINSTALLED_MOUNTS: Record<string, string> = {
  'usr-local-bin': '/usr/local/bin',
  'etc-systemd-system': '/etc/systemd/system',
  'etc-sysctl.d': '/etc/sysctl.d',
  'etc-modules-load.d': '/etc/modules-load.d',
  'etc-containerd': '/etc/containerd',
  'var-lib-containerd': '/var/lib/containerd',
  'var-lib-etcd': '/var/lib/etcd',
};

/** Shell lines that start Debian's containerd with `config` and wait (15 s at most) until it answers on `socket`. */
const startContainerd = (config: string, log: string, socket: string) =>
  `setsid containerd --config ${config} >${log} 2>&1 </dev/null &\ni=0; while [ ! -S ${socket} ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i+1)); done`;

/** The setup `preinstalled` stands for: its folders, a default route, every host in /etc/hosts, containerd and chronyd started at boot. */
function expandSetup(setup: HostSetup): HostSetup {
  if (!setup.preinstalled) return setup;
  return {
    ...setup,
    mounts: { ...PREINSTALLED_MOUNTS, ...(setup.mounts ?? {}) },
    defaultRoute: setup.defaultRoute ?? true,
    hostsEntries: setup.hostsEntries ?? [],
    boot: [
      'chronyd -x -u root -d -f @DIR@/chrony.conf >@DIR@/chronyd.log 2>&1 &',
      ...(setup.boot ?? []),
    ],
  };
}

/** Binaries, units, settings files and configs of a `preinstalled` host, in its folders. */
function preinstall(h: TestHost): void {
  const d = h.dir;
  const need = [join(NODE_BIN_DIR, 'kubelet'), join(NODE_BIN_DIR, 'crictl'), join(BIN_DIR, 'kubeadm')];
  const missing = need.filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`preinstalled test hosts need the node binaries: ${missing.join(', ')} missing (run: node dist/scripts/realcluster.js build)`);
  for (const b of ['kubelet', 'crictl']) place(join(NODE_BIN_DIR, b), join(d, 'usr-local-bin', b));
  // The base CNI plugins the kubernetes-cni package installs (flannel's own comes with its DaemonSet).
  for (const p of ['bridge', 'host-local', 'loopback', 'portmap']) place(join(NODE_BIN_DIR, p), join(d, 'opt-cni-bin', p));
  place(join(BIN_DIR, 'kubeadm'), join(d, 'usr-local-bin', 'kubeadm'));
  systemdUnits(d, ['kubelet', 'containerd', 'chrony']);
  settingsFiles(d);
  writeFileSync(join(d, 'etc-containerd', 'config.toml'), containerdConfig({ systemdCgroup: true }));
  // chronyd serving the loopback from its local clock: a time-sync service that runs, without touching this machine's clock.
  writeFileSync(join(d, 'chrony.conf'), `pidfile /run/chronyd.pid\ncmdport 0\ndriftfile ${d}/chrony.drift\nallow 127.0.0.1\nlocal stratum 10\n`);
}

/** This machine's cgroup mounts under /sys/fs/cgroup: controller (or `unified`) → mount options. */
export function machineCgroups(): Map<string, { path: string; type: string; options: string }> {
  const out = new Map<string, { path: string; type: string; options: string }>();
  for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const [, path, type, opts] = line.split(' ');
    if (!path?.startsWith('/sys/fs/cgroup/') || (type !== 'cgroup' && type !== 'cgroup2')) continue;
    const options = opts.split(',').filter((o) => !['rw', 'relatime', 'nosuid', 'nodev', 'noexec'].includes(o));
    const key = type === 'cgroup2' ? 'unified' : options.join(',');
    out.set(key, { path, type, options: type === 'cgroup2' ? '' : options.join(',') });
  }
  return out;
}

function cgroupMounts(setup: HostSetup): string {
  const all = machineCgroups();
  const wanted = setup.cgroups ?? [...all.keys()];
  const lines = ['mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup'];
  for (const key of wanted) {
    const m = all.get(key);
    if (!m) continue;
    lines.push(`mkdir -p ${m.path} && mount -t ${m.type} ${m.options ? `-o ${m.options} ` : ''}${m.type} ${m.path}`);
  }
  return lines.join('\n');
}

const macOf = (i: number) => `02:6b:63:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;

function hostsState(network: HostNetwork): { hosts: TestHost[]; createdMountPoints: string[] } | null {
  const path = join(network.dir, 'state.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { hosts: TestHost[]; createdMountPoints: string[] }) : null;
}

/** Removes every host of a network, its bridge and folders; safe to call when nothing exists. */
export async function destroyHosts(network: HostNetwork): Promise<void> {
  const state = hostsState(network);
  for (const h of state?.hosts ?? []) await shNothrow`kill -9 ${h.pid}`;
  const list = await shNothrow`ip -o netns list`;
  for (const line of list.stdout.split('\n')) {
    const ns = line.split(' ')[0];
    if (ns.startsWith(network.netnsPrefix) && /^[a-z0-9-]+$/.test(ns.slice(network.netnsPrefix.length))) {
      // Kill whatever still runs in the namespace (its init and children), then delete it.
      const pids = await shNothrow`ip netns pids ${ns}`;
      for (const pid of pids.stdout.split('\n').filter(Boolean)) await shNothrow`kill -9 ${pid}`;
      await shNothrow`ip netns del ${ns}`;
    }
  }
  const links = await shNothrow`ip -o link show`;
  const ours = new RegExp(`^\\d+: (${network.veth}[vx]\\d+)[@:]`, 'gm');
  for (const m of links.stdout.matchAll(ours)) await shNothrow`ip link del ${m[1]}`;
  await shNothrow`ip link del ${network.bridge}`;
  for (const dir of state?.createdMountPoints ?? []) await shNothrow`rmdir ${dir}`;
  rmSync(network.dir, { recursive: true, force: true });
}

/** Removes the host tests' fleet. */
export const destroyFleet = () => destroyHosts(TEST_NETWORK);

const BASE_MOUNTS: Record<string, string> = {
  'opt-cni-bin': '/opt/cni/bin',
  'etc-cni-net.d': '/etc/cni/net.d',
  'etc-kubernetes': '/etc/kubernetes',
  'var-lib-kubelet': '/var/lib/kubelet',
  'var-lib-cni': '/var/lib/cni',
};

/**
 * What root's ~/.bashrc and ~/.profile hold on a freshly installed Debian host (base-files' dot.bashrc,
 * dot.profile). bash reads ~/.bashrc for every command sshd runs, and the test hosts share this machine's
 * /root, whose .bashrc starts pyenv (~100 ms of forks per SSH session here): every tool's every exec on
 * every host paid for it, and it made most of a bare 50-host round's time. Each host gets its own.
 */
const ROOT_DOTFILES: Record<'bashrc' | 'profile', string> = {
  bashrc: readIfThere('/usr/share/base-files/dot.bashrc') ?? '# ~/.bashrc: executed by bash(1) for non-login shells.\n',
  profile: readIfThere('/usr/share/base-files/dot.profile') ?? '# ~/.profile: executed by Bourne-compatible login shells.\nif [ "$BASH" ]; then\n  if [ -f ~/.bashrc ]; then\n    . ~/.bashrc\n  fi\nfi\n',
};

function readIfThere(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

function initScript(h: TestHost, network: HostNetwork, setup: HostSetup): string {
  const d = h.dir;
  const mounts = { ...BASE_MOUNTS, ...(setup.mounts ?? {}) };
  return `#!/bin/sh
# PID 1 of test host ${h.name}: give it its own view of the system, then run sshd.
set -e
hostname ${h.name}
mount -t tmpfs -o size=64m tmpfs /run
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
${cgroupMounts(setup)}
for f in fstab hosts hostname${setup.resolvConf !== undefined ? ' resolv.conf' : ''}; do mount --bind ${d}/$f /etc/$f; done
# root's own dotfiles, as a freshly installed host has them (not this machine's: see ROOT_DOTFILES)
for f in bashrc profile; do if [ -e /root/.$f ]; then mount --bind ${d}/root-$f /root/.$f; fi; done
${Object.entries(mounts).map(([dir, path]) => `mkdir -p ${path} && mount --bind ${d}/${dir} ${path}`).join('\n')}
${setup.defaultRoute ? `ip route add default via ${network.subnet}.1 dev eth0` : ''}
${setup.runtimeStandIn === false ? '' : `# A host ready for kubeadm has its container runtime answering the CRI on its socket: Debian's containerd
# (preinstalled: with the guides' /etc/containerd/config.toml). sshd, the tests' way in, comes up after it.
${startContainerd(setup.preinstalled ? '/etc/containerd/config.toml' : `${d}/containerd.toml`, `${d}/containerd.log`, '/run/containerd/containerd.sock')}`}
${(setup.boot ?? []).map((l) => l.replaceAll('@DIR@', d)).join('\n')}
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
    // VERBOSE: one "Starting session" line per exec channel (the tests count them).
    'LogLevel VERBOSE',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n');
}

async function writeHostFiles(h: TestHost, fleetDir: string, uuid: string, setup: HostSetup, peers: TestHost[]): Promise<void> {
  const d = h.dir;
  for (const sub of ['sys', 'run-flannel', 'run-containerd', 'opt-cni-bin', 'etc-cni-net.d', 'etc-kubernetes/pki', 'var-lib-kubelet/pki', 'var-lib-cni', ...Object.keys(setup.mounts ?? {})]) {
    mkdirSync(join(d, sub), { recursive: true });
  }
  writeFileSync(join(d, 'product_uuid'), `${uuid}\n`);
  if (setup.runtimeStandIn !== false && !setup.preinstalled) writeFileSync(join(d, 'containerd.toml'), containerdConfig({ systemdCgroup: false, root: join(d, 'containerd-root') }));
  // The base CNI plugins a kubeadm install brings (kubernetes-cni); flannel's own arrives with its DaemonSet.
  if (setup.runtimeStandIn !== false) for (const plugin of ['bridge', 'host-local', 'loopback', 'portmap']) writeFileSync(join(d, 'opt-cni-bin', plugin), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  writeFileSync(join(d, 'swaps'), 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n');
  writeFileSync(join(d, 'fstab'), '# test host fstab\nUUID=0000 / ext4 defaults 0 1\n');
  // Every host of the set resolves the others' names, as a cluster's /etc/hosts (or DNS) does.
  const others = peers.filter((p) => p !== h).map((p) => `${p.ip} ${p.name}`);
  writeFileSync(join(d, 'hosts'), [`127.0.0.1 localhost`, `${h.ip} ${h.name}`, ...others, ...(setup.hostsEntries ?? [])].join('\n') + '\n');
  writeFileSync(join(d, 'hostname'), `${h.name}\n`);
  for (const [name, text] of Object.entries(ROOT_DOTFILES)) writeFileSync(join(d, `root-${name}`), text);
  if (setup.resolvConf !== undefined) writeFileSync(join(d, 'resolv.conf'), setup.resolvConf);
  writeFileSync(join(d, 'sshd_config'), sshdConfig(h, fleetDir));
  await sh`ssh-keygen -q -t ed25519 -N ${''} -C ${h.name} -f ${join(d, 'ssh_host_ed25519_key')}`;
}

/**
 * Creates hosts named `names` on `network` (addresses .10+i, MACs, keys, sshd), each with its own
 * network, mount, UTS and PID namespaces; removes what an earlier set on that network left first.
 */
export async function createHosts(network: HostNetwork, names: string[], given: HostSetup = {}): Promise<TestFleet> {
  const setup = expandSetup(given);
  const count = names.length;
  if (count < 1 || count > 200) throw new Error('between 1 and 200 hosts');
  await destroyHosts(network);
  const dir = network.dir;
  mkdirSync(join(dir, 'bin'), { recursive: true });
  const mountPoints = [...new Set([...MOUNT_POINTS, ...Object.values(setup.mounts ?? {})])];
  const createdMountPoints = mountPoints.filter((p) => !existsSync(p));
  for (const p of createdMountPoints) mkdirSync(p, { recursive: true });

  const socat = (await sh`which socat`).stdout.trim();
  for (const name of PROGRAMS) {
    copyFileSync(socat, join(dir, 'bin', name));
    chmodSync(join(dir, 'bin', name), 0o755);
  }
  // What the kubelet's /healthz answers when healthy.
  writeFileSync(join(dir, 'bin', 'healthz-ok'), "#!/bin/sh\nprintf 'HTTP/1.0 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok'\n", { mode: 0o755 });
  const key = join(dir, 'id_ed25519');
  const wrongKey = join(dir, 'wrong_ed25519');
  await sh`ssh-keygen -q -t ed25519 -N ${''} -C kubecheck-test -f ${key}`;
  await sh`ssh-keygen -q -t ed25519 -N ${''} -C kubecheck-wrong -f ${wrongKey}`;
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${key}.pub`));

  // The kernel's ARP table is one for every namespace (1024 entries by default): 50 hosts that all talk
  // to each other need 2,450, and past the limit datagrams are dropped ("neighbor table overflow").
  await sh`sysctl -qw net.ipv4.neigh.default.gc_thresh1=4096 net.ipv4.neigh.default.gc_thresh2=16384 net.ipv4.neigh.default.gc_thresh3=32768`;
  await sh`ip link add ${network.bridge} type bridge`;
  await sh`ip addr add ${`${network.subnet}.1/24`} dev ${network.bridge}`;
  await sh`ip link set ${network.bridge} up`;

  const hosts: TestHost[] = names.map((name, n) => {
    const i = n + 1;
    return { name, index: i, ip: `${network.subnet}.${9 + i}`, mac: macOf(i), netns: `${network.netnsPrefix}${name}`, veth: network.veth, dir: join(dir, name), pid: 0 };
  });
  for (const h of hosts) {
    const i = h.index;
    const v = network.veth;
    await writeHostFiles(h, dir, randomUUID(), setup, hosts);
    if (setup.preinstalled) preinstall(h);
    await sh`ip netns add ${h.netns}`;
    await sh`ip link add ${`${v}v${i}`} type veth peer name ${`${v}e${i}`}`;
    await sh`ip link set ${`${v}v${i}`} master ${network.bridge} up`;
    await sh`ip link set ${`${v}e${i}`} netns ${h.netns}`;
    await sh`ip -n ${h.netns} link set ${`${v}e${i}`} name eth0`;
    await sh`ip -n ${h.netns} link set eth0 address ${h.mac}`;
    await sh`ip -n ${h.netns} addr add ${h.ip}/24 dev eth0`;
    await sh`ip -n ${h.netns} link set eth0 up`;
    await sh`ip -n ${h.netns} link set lo up`;
    await sh`ip netns exec ${h.netns} sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1`;
    writeFileSync(join(h.dir, 'init.sh'), initScript(h, network, setup));
    // setsid + nohup: the host outlives this process until destroyHosts kills it.
    const unshare = `ip netns exec ${h.netns} unshare --mount --uts --pid --fork --mount-proc --propagation private sh ${h.dir}/init.sh`;
    await sh`setsid sh -c ${`${unshare} >${h.dir}/init.log 2>&1 </dev/null &`}`;
  }
  for (const h of hosts) {
    h.pid = await waitForInit(h);
  }
  writeFileSync(join(dir, 'state.json'), JSON.stringify({ hosts, createdMountPoints }, null, 2));
  await waitForSshd(hosts);

  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, hosts.map((h) => `${h.ip} ${readFileSync(join(h.dir, 'ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`).join(''));
  return { dir, hosts, key, wrongKey, knownHosts, deadAddress: `${network.subnet}.254` };
}

/** Creates `count` hosts h1..hN for the host tests, each healthy for a pre-install audit (no swap, ip_forward=1, ports free). */
export function createFleet(count: number, setup: HostSetup = {}): Promise<TestFleet> {
  if (count < 1 || count > 200) throw new Error('between 1 and 200 hosts');
  return createHosts(TEST_NETWORK, Array.from({ length: count }, (_, i) => `h${i + 1}`), setup);
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
      if (Date.now() > deadline) throw new Error(`sshd on ${h.name} did not start: ${sshdLog(h)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** What the host's sshd has logged so far (LogLevel VERBOSE: a line per connection and per exec session). */
export function sshdLog(h: TestHost): string {
  return readFileSync(join(h.dir, 'sshd.log'), 'utf8');
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
  const bin = join(dirname(h.dir), 'bin', program);
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
  await listen(h, 'kubelet', 'TCP-LISTEN:10248,bind=127.0.0.1', join(dirname(h.dir), 'bin', 'healthz-ok'));
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

const certCache = new Map<string, string>();

/**
 * A certificate (and its key, in one PEM, as the kubelet keeps its client certificate) valid from now for
 * `days`, made with openssl and reused within the process: fixtures with fixed dates would expire.
 */
export async function freshCertificate(cn: string, days = 365): Promise<string> {
  const key = `${cn}/${days}`;
  const cached = certCache.get(key);
  if (cached) return cached;
  const dir = join(FLEET_DIR, '..', `kubecheck-certs-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const base = join(dir, cn.replace(/[^a-z0-9]+/gi, '_'));
  await sh`openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ${`${base}.key`} -out ${`${base}.crt`} -days ${String(days)} -subj ${`/CN=${cn}`}`;
  const pem = readFileSync(`${base}.crt`, 'utf8') + readFileSync(`${base}.key`, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  certCache.set(key, pem);
  return pem;
}

const FLANNEL_CONFLIST = JSON.stringify({ name: 'cbr0', cniVersion: '0.3.1', plugins: [{ type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } }, { type: 'portmap', capabilities: { portMappings: true } }] }, null, 2);

/** flanneld's subnet.env, cni0 and flannel.1 for a node given `subnet` (10.244.N.1) of `network`. */
async function flannelState(h: TestHost, subnet: string, network = '10.244.0.0/16'): Promise<void> {
  const [a, b, c] = subnet.split('.');
  setFile(h, 'run-flannel/subnet.env', `FLANNEL_NETWORK=${network}\nFLANNEL_SUBNET=${subnet}/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n`);
  await addBridge(h, 'cni0', `${subnet}/24`);
  await addVxlan(h, `${a}.${b}.${c}.0/32`);
}

/** A host as a working flannel node leaves it: plugins, conflist, subnet.env, cni0 and flannel.1. */
export async function makeFlannelNode(h: TestHost, subnet: string): Promise<void> {
  setFile(h, 'var-lib-kubelet/pki/kubelet-client-current.pem', await freshCertificate(`system:node:${h.name}`));
  setFile(h, 'opt-cni-bin/flannel', '#!/bin/sh\nexit 0\n', 0o755);
  setFile(h, 'etc-cni-net.d/10-flannel.conflist', FLANNEL_CONFLIST);
  await flannelState(h, subnet);
}

/** The host folders a binary-install or k3s layout needs on top of the base ones (pass to createHosts). */
export const PROFILE_MOUNTS: Record<string, string> = {
  'etc-systemd-system': '/etc/systemd/system',
  'etc-containerd': '/etc/containerd',
  'etc-etcd': '/etc/etcd',
  'var-lib-rancher': '/var/lib/rancher',
  'etc-rancher': '/etc/rancher',
};

/** A systemd unit file and its multi-user.target.wants link (enabled at boot), as the install guides write them. */
function unit(h: TestHost, name: string, execStart: string, enabled = true): void {
  setFile(h, `etc-systemd-system/${name}.service`, `[Unit]\nDescription=${name}\nAfter=network.target\n\n[Service]\nExecStart=${execStart}\nRestart=always\nRestartSec=5\n\n[Install]\nWantedBy=multi-user.target\n`);
  const wants = join(h.dir, 'etc-systemd-system', 'multi-user.target.wants');
  mkdirSync(wants, { recursive: true });
  rmSync(join(wants, `${name}.service`), { force: true });
  if (enabled) symlinkSync(`/etc/systemd/system/${name}.service`, join(wants, `${name}.service`));
}

/**
 * A host laid out as the HA binary install of the install guides: certificates in /etc/kubernetes/cert and
 * /etc/etcd/cert, kubeconfigs beside them, every component a systemd unit (control plane on `control-plane`
 * hosts; kubelet, kube-proxy, flanneld and containerd everywhere) and running under its own name on its
 * ports, flannel's files and links. Needs PROFILE_MOUNTS.
 */
export async function makeBinaryNode(h: TestHost, role: 'control-plane' | 'worker', subnet: string): Promise<void> {
  const bin = join(dirname(h.dir), 'bin');
  const cert = (cn: string) => freshCertificate(cn);
  setFile(h, 'etc-kubernetes/cert/ca.pem', await cert('kubernetes-ca'));
  setFile(h, 'etc-kubernetes/cert/kube-proxy.pem', await cert('system:kube-proxy'));
  setFile(h, 'etc-kubernetes/cert/kubelet-client-current.pem', await cert(`system:node:${h.name}`));
  setFile(h, 'etc-kubernetes/kubelet-config.yaml', 'kind: KubeletConfiguration\napiVersion: kubelet.config.k8s.io/v1beta1\ncgroupDriver: systemd\n');
  setFile(h, 'etc-kubernetes/kubelet.kubeconfig', 'apiVersion: v1\nkind: Config\n');
  setFile(h, 'etc-kubernetes/kube-proxy.kubeconfig', 'apiVersion: v1\nkind: Config\n');
  setFile(h, 'etc-containerd/config.toml', '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n');
  for (const u of ['containerd', 'kubelet', 'kube-proxy', 'flanneld']) unit(h, u, `/opt/k8s/bin/${u}`);
  await listen(h, 'kubelet', 'TCP-LISTEN:10248,bind=127.0.0.1', join(bin, 'healthz-ok'));
  await listen(h, 'kubelet', 'TCP-LISTEN:10250');
  await listen(h, 'kube-proxy', 'TCP-LISTEN:10256');
  // flanneld binds no port of its own (the kernel's vxlan socket holds 8472): it only has to run.
  await listen(h, 'flanneld', 'UNIX-LISTEN:/run/flannel/kc-flanneld.sock,unlink-early');
  if (role === 'control-plane') {
    setFile(h, 'etc-kubernetes/cert/kubernetes.pem', await cert('kubernetes'));
    setFile(h, 'etc-kubernetes/cert/kube-controller-manager.pem', await cert('system:kube-controller-manager'));
    setFile(h, 'etc-kubernetes/cert/kube-scheduler.pem', await cert('system:kube-scheduler'));
    setFile(h, 'etc-etcd/cert/etcd.pem', await cert('etcd'));
    for (const u of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd']) unit(h, u, `/opt/k8s/bin/${u}`);
    await listen(h, 'kube-apiserver', 'TCP-LISTEN:6443');
    await listen(h, 'etcd', 'TCP-LISTEN:2379');
    await listen(h, 'etcd', 'TCP-LISTEN:2380');
    await listen(h, 'kube-controller-manager', 'TCP-LISTEN:10257');
    await listen(h, 'kube-scheduler', 'TCP-LISTEN:10259');
  }
  setFile(h, 'opt-cni-bin/flannel', '#!/bin/sh\nexit 0\n', 0o755);
  setFile(h, 'etc-cni-net.d/10-flannel.conflist', FLANNEL_CONFLIST);
  await flannelState(h, subnet);
}

/**
 * A host laid out as k3s lays one out: the k3s server (or agent) process on its ports, its embedded
 * containerd's socket, its data under /var/lib/rancher/k3s (CNI plugins as links to its `cni` binary, CNI
 * config, certificates), /etc/rancher/k3s, its unit, and the flannel state its embedded flannel leaves.
 * Needs PROFILE_MOUNTS.
 */
export async function makeK3sNode(h: TestHost, role: 'server' | 'agent', subnet: string): Promise<void> {
  const bin = join(dirname(h.dir), 'bin');
  const name = role === 'server' ? 'k3s-server' : 'k3s-agent';
  const data = 'var-lib-rancher/k3s/data/8a2b1c';
  setFile(h, `${data}/bin/cni`, '#!/bin/sh\nexit 0\n', 0o755);
  for (const p of ['flannel', 'bridge', 'host-local', 'loopback', 'portmap']) symlinkSync('cni', join(h.dir, data, 'bin', p));
  symlinkSync('/var/lib/rancher/k3s/data/8a2b1c', join(h.dir, 'var-lib-rancher/k3s/data/current'));
  setFile(h, 'var-lib-rancher/k3s/agent/etc/cni/net.d/10-flannel.conflist', FLANNEL_CONFLIST);
  setFile(h, 'var-lib-rancher/k3s/agent/etc/containerd/config.toml', '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  SystemdCgroup = false\n');
  setFile(h, 'var-lib-rancher/k3s/agent/client-kubelet.crt', await freshCertificate(`system:node:${h.name}`));
  setFile(h, 'var-lib-rancher/k3s/agent/serving-kubelet.crt', await freshCertificate(h.name));
  setFile(h, 'etc-rancher/k3s/registries.yaml', 'mirrors: {}\n');
  if (role === 'server') {
    setFile(h, 'var-lib-rancher/k3s/server/tls/server-ca.crt', await freshCertificate('k3s-server-ca'));
    setFile(h, 'var-lib-rancher/k3s/server/tls/serving-kube-apiserver.crt', await freshCertificate('kube-apiserver'));
    setFile(h, 'etc-rancher/k3s/k3s.yaml', 'apiVersion: v1\nkind: Config\n');
  }
  unit(h, role === 'server' ? 'k3s' : 'k3s-agent', `/usr/local/bin/k3s ${role}`);
  copyFileSync(join(bin, 'containerd'), join(bin, name));
  chmodSync(join(bin, name), 0o755);
  // k3s runs its own containerd, on its own socket (the host's stand-in on /run/containerd goes).
  await stopProgram(h, 'containerd');
  await onHost(h, 'rm -f /run/containerd/containerd.sock; mkdir -p /run/k3s/containerd');
  setFile(h, 'k3s-containerd.toml', containerdConfig({ systemdCgroup: false, root: join(h.dir, 'k3s-containerd-root'), state: '/run/k3s/containerd' }));
  await onHost(h, `${startContainerd(join(h.dir, 'k3s-containerd.toml'), join(h.dir, 'k3s-containerd.log'), '/run/k3s/containerd/containerd.sock')}\n[ -S /run/k3s/containerd/containerd.sock ]`);
  await listen(h, name, 'TCP-LISTEN:10248,bind=127.0.0.1', join(bin, 'healthz-ok'));
  await listen(h, name, 'TCP-LISTEN:10250');
  if (role === 'server') await listen(h, name, 'TCP-LISTEN:6443');
  // k3s's default cluster CIDR.
  await flannelState(h, subnet, '10.42.0.0/16');
}

/**
 * The host faults doctor and the CNI checks know, each made by changing the host's real state, named after
 * the doctor cause each leads to (`CAUSE` or `CAUSE:variant`).
 */
export type HostFault =
  | 'kubelet-down' | 'runtime-down' | 'swap-enabled' | 'cni-plugin-missing' | 'cni-plugin-missing:not-executable' | 'cni-config-missing'
  | 'flannel-subnet-missing' | 'cni0-ip-conflict' | 'certificate-expired:apiserver' | 'certificate-expired:kubelet';

/** The doctor cause a fault leads to. */
export const causeOf = (fault: HostFault) => fault.split(':')[0];

const CERTS = assetPath('fixtures/certs');

/** Breaks one thing on a host set up by makeFlannelNode (and startKubelet). */
export async function injectFault(h: TestHost, fault: HostFault): Promise<void> {
  switch (fault) {
    case 'kubelet-down': return stopProgram(h, 'kubelet');
    case 'runtime-down': return stopProgram(h, 'containerd');
    case 'swap-enabled': return setSwaps(h, [{ device: '/swapfile', sizeKiB: 2097152 }]);
    case 'cni-plugin-missing': return rmSync(join(h.dir, 'opt-cni-bin', 'flannel'), { force: true });
    case 'cni-plugin-missing:not-executable': return chmodSync(join(h.dir, 'opt-cni-bin', 'flannel'), 0o644);
    case 'cni-config-missing': return rmSync(join(h.dir, 'etc-cni-net.d', '10-flannel.conflist'), { force: true });
    case 'flannel-subnet-missing': return rmSync(join(h.dir, 'run-flannel', 'subnet.env'), { force: true });
    case 'cni0-ip-conflict':
      // Re-joined with a new subnet: cni0 keeps an address of the old one.
      await sh`ip -n ${h.netns} link delete cni0`;
      return addBridge(h, 'cni0', `10.244.${200 + (h.index % 50)}.1/24`);
    case 'certificate-expired:apiserver': return setFile(h, 'etc-kubernetes/pki/apiserver.crt', readFileSync(join(CERTS, 'apiserver-expired.crt'), 'utf8'));
    case 'certificate-expired:kubelet': return setFile(h, 'var-lib-kubelet/pki/kubelet-client-current.pem', readFileSync(join(CERTS, 'kubelet-client-expired.pem'), 'utf8'));
  }
}

/** Adds a second NIC with the given MAC: a veth whose peer stays unattached on this machine. */
export async function addNic(h: TestHost, name: string, mac: string): Promise<void> {
  const peer = `${h.veth}x${h.index}`;
  const inside = `${h.veth}y${h.index}`;
  await sh`ip link add ${peer} type veth peer name ${inside}`;
  await sh`ip link set ${inside} netns ${h.netns}`;
  await sh`ip -n ${h.netns} link set ${inside} name ${name}`;
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
