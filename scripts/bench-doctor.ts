// npm run bench:doctor — `kubecheck doctor` on 50 real test hosts carrying the catalogue's host faults
// in turn (kubelet down, runtime down, swap, flannel plugin, CNI config, subnet.env, stale cni0, expired
// certificates, healthy): wall time against the design's bar (50 nodes diagnosed in < 10 s).
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createFleet, destroyFleet, injectFault, makeFlannelNode, startKubelet, type HostFault } from './testhosts.js';
import { packageRoot } from '../src/core/assets.js';
import { writeBenchSection } from './bench-report.js';

const ROOT = packageRoot();
const N = Number(process.env.BENCH_HOSTS ?? 50);
/** Each host gets one fault in turn: [the cause doctor must name, the fault made on the host]. */
const FAULTS: [string, HostFault | null][] = [
  ['kubelet-down', 'kubelet-down'], ['runtime-down', 'runtime-down'], ['swap-enabled', 'swap-enabled'], ['cni-plugin-missing', 'cni-plugin-missing'],
  ['cni-config-missing', 'cni-config-missing'], ['flannel-subnet-missing', 'flannel-subnet-missing'], ['cni0-ip-conflict', 'cni0-ip-conflict'],
  ['certificate-expired', 'certificate-expired:kubelet'], ['healthy', null],
];

async function main(): Promise<void> {
  const fleet = await createFleet(N);
  try {
    for (const h of fleet.hosts) {
      const fault = FAULTS[(h.index - 1) % FAULTS.length][1];
      await makeFlannelNode(h, `10.244.${h.index}.1`);
      await startKubelet(h);
      if (fault) await injectFault(h, fault);
    }
    const inventory = join(fleet.dir, 'bench-doctor.yaml');
    writeFileSync(inventory, [`defaults: {identityFile: ${fleet.key}, knownHostsFile: ${fleet.knownHosts}}`, 'nodes:',
      ...fleet.hosts.map((h) => `  - {name: ${h.name}, host: ${h.ip}, roles: [worker]}`)].join('\n') + '\n');
    const walls: number[] = [];
    let right = 0;
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      let stdout = '';
      try {
        ({ stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin/kubecheck.js'), 'doctor', '-i', inventory, '-o', 'json'], { maxBuffer: 1 << 26 }));
      } catch (err: unknown) {
        stdout = (err as { stdout?: string }).stdout ?? '';
      }
      walls.push((performance.now() - started) / 1000);
      const run = JSON.parse(stdout) as { diagnoses: { node: string; cause: string }[] };
      const top = new Map<string, string>();
      for (const d of run.diagnoses) if (!top.has(d.node)) top.set(d.node, d.cause);
      right = fleet.hosts.filter((h) => top.get(h.name) === FAULTS[(h.index - 1) % FAULTS.length][0]).length;
      process.stderr.write(`[bench:doctor] run ${i + 1}: ${walls[i].toFixed(2)} s, ${right}/${N} right top causes\n`);
    }
    const median = [...walls].sort((a, b) => a - b)[1];
    const section = [
      '<!-- bench:doctor:begin -->',
      `Measured ${new Date().toISOString().slice(0, 10)}: ${N} test hosts, faults in turn (${FAULTS.map((f) => f[0]).join(', ')}). Reproduce: \`npm run bench:doctor\` (as root).`,
      '',
      `| run | wall |\n|---|---|\n${walls.map((w, i) => `| ${i + 1} | ${w.toFixed(2)} s |`).join('\n')}`,
      '',
      `Right top cause on ${right} of ${N} hosts. Bar: 50 nodes diagnosed in < 10 s — ${median < 10 ? 'met' : 'NOT met'} (median ${median.toFixed(2)} s).`,
      '<!-- bench:doctor:end -->',
    ].join('\n');
    writeBenchSection('doctor', section);
    console.log(section);
  } finally {
    await destroyFleet();
  }
}

await main();
