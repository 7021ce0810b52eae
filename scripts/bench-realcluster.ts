// npm run bench:realcluster — how long the real cluster (scripts/realcluster.ts) takes to come up, stage by
// stage (images pushed to an empty registry, so the push is cold; binaries and image layouts cached), and
// what it costs at rest: memory (RSS) and CPU per component over 60 s, summed over the three nodes.
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { $ } from 'zx';
import { REGISTRY_STORAGE } from './cluster-images.js';
import { procStat, writeBenchSection } from './bench-report.js';
import { REAL_NETWORK, buildRealCluster, downRealCluster, upRealCluster } from './realcluster.js';

const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const TICK = 100; // clock ticks per second (getconf CLK_TCK on Linux)

interface Proc { pid: number; comm: string; cpuTicks: number; rssKiB: number }

/**
 * Every process of the real cluster, with CPU ticks and RSS: those in the hosts' (and the mirror's) network
 * namespaces, and the pods' containers, which have network namespaces of their own but live in the
 * kubelets' cgroup roots (/kc-NODE/kubepods/…).
 */
async function clusterProcesses(): Promise<Proc[]> {
  const out: Proc[] = [];
  const namespaces = (await $({ quiet: true })`ip -o netns list`).stdout.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(REAL_NETWORK.netnsPrefix));
  const pids = new Set<number>();
  for (const ns of namespaces) for (const p of (await $({ quiet: true, nothrow: true })`ip netns pids ${ns}`).stdout.split('\n').filter(Boolean)) pids.add(Number(p));
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (/^\d+:memory:\/kc-/m.test(readFileSync(`/proc/${p}/cgroup`, 'utf8'))) pids.add(Number(p));
    } catch {
      // gone
    }
  }
  {
    for (const pid of pids) {
      try {
        const { comm, ownTicks: cpuTicks } = procStat(pid);
        const rss = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        out.push({ pid, comm, cpuTicks, rssKiB: rss ? Number(rss[1]) : 0 });
      } catch {
        // The process ended between the listing and the read.
      }
    }
  }
  return out;
}

/** Groups processes by what they are (the static pods and DaemonSet pods by their program's name). */
function component(comm: string): string {
  if (/^containerd-shim/.test(comm)) return 'containerd-shim (per pod)';
  if (/^(sh|sleep|sshd|kc-service|pause)$/.test(comm)) return 'hosts: init, sshd, supervisor, pause';
  return comm;
}

async function main(): Promise<void> {
  await buildRealCluster();
  rmSync(REGISTRY_STORAGE, { recursive: true, force: true });
  const started = Date.now();
  const cluster = await upRealCluster();
  const upSeconds = (Date.now() - started) / 1000;
  try {
    await new Promise((r) => setTimeout(r, 10_000));
    const before = new Map((await clusterProcesses()).map((p) => [p.pid, p]));
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const after = await clusterProcesses();
    const rows = new Map<string, { count: number; rssKiB: number; cpuTicks: number }>();
    for (const p of after) {
      const row = rows.get(component(p.comm)) ?? { count: 0, rssKiB: 0, cpuTicks: 0 };
      row.count++;
      row.rssKiB += p.rssKiB;
      row.cpuTicks += p.cpuTicks - (before.get(p.pid)?.cpuTicks ?? p.cpuTicks);
      rows.set(component(p.comm), row);
    }
    const sorted = [...rows].sort((a, b) => b[1].rssKiB - a[1].rssKiB);
    const totalRss = sorted.reduce((s, [, r]) => s + r.rssKiB, 0);
    const totalCpu = sorted.reduce((s, [, r]) => s + r.cpuTicks, 0) / TICK / IDLE_SECONDS;
    const section = [
      `Measured ${new Date().toISOString().slice(0, 10)} on this machine (2 cores): cp1 (kubeadm init, control plane as static pods) and workers w1, w2 (kubeadm join), each a test host with Debian's containerd 1.6 + runc and the real kubelet; flannel, kube-proxy and CoreDNS as DaemonSets/Deployment; images pushed to an empty registry first. Reproduce: \`npm run bench:realcluster\` (as root).`,
      '',
      `Up in ${upSeconds.toFixed(1)} s:`,
      '',
      '| stage | seconds |',
      '|---|---|',
      ...Object.entries(cluster.timings).map(([k, v]) => `| ${k} | ${v.toFixed(1)} |`),
      '',
      `At rest (${IDLE_SECONDS} s, every process in the cluster's namespaces): ${(totalRss / 1024).toFixed(0)} MiB RSS, ${(totalCpu * 100).toFixed(0)} % of one core.`,
      '',
      '| component | processes | RSS | CPU (% of one core) |',
      '|---|---|---|---|',
      ...sorted.map(([name, r]) => `| ${name} | ${r.count} | ${(r.rssKiB / 1024).toFixed(0)} MiB | ${((r.cpuTicks / TICK / IDLE_SECONDS) * 100).toFixed(1)} |`),
    ].join('\n');
    writeBenchSection('realcluster', section);
    console.log(section);
  } finally {
    await downRealCluster();
  }
}

await main();
