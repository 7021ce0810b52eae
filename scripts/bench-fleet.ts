// npm run bench:fleet — full preflight over SSH on N real test hosts against parallel-ssh (bare `true`)
// and ansible (shell and raw modules running the same fact-gathering script), measured in the same run.
// Writes the numbers into BENCHMARKS.md between the bench:fleet markers.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { $ } from 'zx';
import { createFleet, destroyFleet, sshdLog, type TestFleet } from './testhosts.js';
import { packageRoot } from '../src/core/assets.js';
import { writeBenchSection } from './bench-report.js';

const ROOT = packageRoot();
const N = Number(process.env.BENCH_HOSTS ?? 50);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const FORKS = 32;
const sh = $({ quiet: true, nothrow: true, timeout: '300s' });

interface Sample {
  wallS: number;
  cpuS: number;
  /** Core-seconds the whole machine was busy meanwhile: the client, and the hosts' sshd, shells and programs. */
  busyS: number;
  connections: number;
  /** Exec sessions the hosts' sshd started (LogLevel VERBOSE: "Starting session"). */
  sessions: number;
  ok: boolean;
}

/** Core-seconds the whole machine has been busy (not idle or waiting for I/O), from /proc/stat. */
function busyCoreSeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return (user + nice + system + irq + softirq + steal) / 100;
}

/** Runs a command under bash and reads the CPU time of everything it started (bash `times`). */
async function measure(command: string, fleet: TestFleet): Promise<Sample> {
  const before = logged(fleet);
  const busyBefore = busyCoreSeconds();
  const started = performance.now();
  const out = await sh`bash -c ${`${command} >/tmp/kubecheck-bench.out 2>&1; rc=$?; times; exit $rc`}`;
  const wallS = (performance.now() - started) / 1000;
  // `times` prints the shell's own line, then its children's: "0m0.123s 0m0.045s".
  const lines = out.stdout.trim().split('\n');
  const child = lines[lines.length - 1].match(/(\d+)m([\d.]+)s/g) ?? [];
  const cpuS = child.map((t) => {
    const [, m, s] = /(\d+)m([\d.]+)s/.exec(t)!;
    return Number(m) * 60 + Number(s);
  }).reduce((a, b) => a + b, 0);
  const busyS = busyCoreSeconds() - busyBefore;
  const after = logged(fleet);
  return { wallS, cpuS, busyS, connections: after.connections - before.connections, sessions: after.sessions - before.sessions, ok: out.exitCode === 0 || out.exitCode === 1 };
}

/** Connections accepted and exec sessions started so far, from every host's sshd log. */
function logged(fleet: TestFleet): { connections: number; sessions: number } {
  const logs = fleet.hosts.map(sshdLog);
  const count = (re: RegExp) => logs.map((l) => (l.match(re) ?? []).length).reduce((a, b) => a + b, 0);
  return { connections: count(/Accepted publickey/g), sessions: count(/Starting session:/g) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  console.error(`creating ${N} test hosts…`);
  const t0 = performance.now();
  const fleet = await createFleet(N);
  const startupS = (performance.now() - t0) / 1000;
  try {
    const dir = fleet.dir;
    const hostsFile = join(dir, 'pssh-hosts');
    writeFileSync(hostsFile, fleet.hosts.map((h) => `root@${h.ip}`).join('\n') + '\n');
    const inventory = join(dir, 'bench.yaml');
    writeFileSync(inventory, [`defaults: {user: root, identityFile: ${fleet.key}, knownHostsFile: ${fleet.knownHosts}}`, 'nodes:',
      ...fleet.hosts.map((h) => `  - {name: ${h.name}, host: ${h.ip}, roles: [worker]}`)].join('\n') + '\n');
    const ini = join(dir, 'bench.ini');
    writeFileSync(ini, fleet.hosts.map((h) => `${h.name} ansible_host=${h.ip}`).join('\n') +
      `\n[all:vars]\nansible_user=root\nansible_ssh_private_key_file=${fleet.key}\nansible_python_interpreter=/usr/bin/python3\n`);
    const sshOpts = `-i ${fleet.key} -o UserKnownHostsFile=${fleet.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes`;
    const collector = join(ROOT, 'src/collectors/node/collect-node.sh');
    const ansibleEnv = `ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_SSH_ARGS='-o UserKnownHostsFile=${fleet.knownHosts} -o ControlMaster=auto -o ControlPersist=60s' ANSIBLE_STDOUT_CALLBACK=minimal ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ANSIBLE_SSH_CONTROL_PATH_DIR=$(mktemp -d)`;
    const tools: [string, string][] = [
      ['kubecheck preflight (full, all checks)', `${process.execPath} ${join(ROOT, 'bin/kubecheck.js')} preflight -i ${inventory} -q --concurrency ${FORKS}`],
      ['kubecheck SSH transport, bare `true`', `${process.execPath} ${join(ROOT, 'dist/scripts/bench-bare.js')} ${inventory}`],
      ['raw ssh2 client, bare `true` (the client-side floor)', `${process.execPath} ${join(ROOT, 'dist/scripts/bench-raw.js')} ${hostsFile} ${fleet.key} ${FORKS}`],
      ['parallel-ssh, bare `true`', `parallel-ssh -h ${hostsFile} -p ${FORKS} -t 60 -x '${sshOpts}' true`],
      ['ansible shell module, same collector script', `${ansibleEnv} ansible all -i ${ini} -f ${FORKS} -m shell -a 'sh ${collector}'`],
      ['ansible raw module, same collector script', `${ansibleEnv} ansible all -i ${ini} -f ${FORKS} -m raw -a 'sh ${collector}'`],
    ];
    const rows: { name: string; samples: Sample[] }[] = tools.map(([name]) => ({ name, samples: [] }));
    // Interleave the tools so that each round compares them under the same conditions.
    for (let round = 0; round < REPEAT; round++) {
      for (let i = 0; i < tools.length; i++) {
        const s = await measure(tools[i][1], fleet);
        if (!s.ok) console.error(`${tools[i][0]} failed:\n${readFileSync('/tmp/kubecheck-bench.out', 'utf8').slice(0, 2000)}`);
        rows[i].samples.push(s);
        console.error(`round ${round + 1}: ${tools[i][0]}: ${s.wallS.toFixed(2)} s wall, ${(s.cpuS * 1000 / N).toFixed(1)} ms CPU/host, ${s.connections / N} conn/host, ${s.sessions / N} exec sessions/host`);
      }
    }
    const pssh = median(rows[3].samples.map((s) => s.wallS));
    const floorCpu = median(rows[2].samples.map((s) => s.cpuS)) * 1000 / N;
    const kc = rows[0];
    const kcWall = median(kc.samples.map((s) => s.wallS));
    const kcCpu = median(kc.samples.map((s) => s.cpuS)) * 1000 / N;
    const kcConn = Math.max(...kc.samples.map((s) => s.connections)) / N;
    const table = [
      '| tool | wall (median) | × parallel-ssh | client CPU per host | machine busy (client + hosts) | SSH connections per host | exec sessions per host |',
      '|---|---|---|---|---|---|---|',
      ...rows.map((r) => {
        const wall = median(r.samples.map((s) => s.wallS));
        return `| ${r.name} | ${wall.toFixed(2)} s | ${(wall / pssh).toFixed(2)} | ${(median(r.samples.map((s) => s.cpuS)) * 1000 / N).toFixed(1)} ms | ${median(r.samples.map((s) => s.busyS)).toFixed(2)} core-s | ${(median(r.samples.map((s) => s.connections)) / N).toFixed(2)} | ${(median(r.samples.map((s) => s.sessions)) / N).toFixed(2)} |`;
      }),
    ].join('\n');
    const verdict = [
      `- one connection per host: ${kcConn === 1 ? 'met' : 'NOT met'} (${kcConn})`,
      `- whole-process CPU ≤ 1.3× the raw ssh2 client's (${floorCpu.toFixed(1)} ms/host in the same rounds, so ≤ ${(1.3 * floorCpu).toFixed(1)} ms): ${kcCpu <= 1.3 * floorCpu ? 'met' : 'NOT met'} (${kcCpu.toFixed(1)} ms, ${(kcCpu / floorCpu).toFixed(2)}×)`,
      `- wall ≤ 0.7× parallel-ssh's bare round: ${kcWall / pssh <= 0.7 ? 'met' : 'NOT met'} (${(kcWall / pssh).toFixed(2)}×)`,
    ].join('\n');
    const args = `preflight -i ${inventory} -q --concurrency ${FORKS}`;
    const machine = await perfRun(args);
    const profile = machine ? undefined : await profileRun(args);
    const where = machine
      ? [
        `Where the time goes (one more preflight under \`perf record -a -e cpu-clock\`, the whole machine, ${machine.busyMs.toFixed(0)} ms of CPU in all, ${(machine.busyMs / N).toFixed(1)} ms per host): by program — kubecheck (node) is the client, the rest is the ${N} hosts' side —`,
        '',
        '| program | ms per host | share |',
        '|---|---|---|',
        ...machine.programs.map(([name, ms]) => `| ${name} | ${(ms / N).toFixed(2)} | ${((100 * ms) / machine.busyMs).toFixed(0)} % |`),
        '',
        `and kubecheck's own ${machine.nodeMs.toFixed(0)} ms (${(machine.nodeMs / N).toFixed(1)} ms per host; JIT frames named with \`--perf-basic-prof --interpreted-frames-native-stack\`, which make compiling dearer than it is), by the nearest frame that says what it is for:`,
        '',
        '| where | ms per host | share |',
        '|---|---|---|',
        ...machine.buckets.map(([name, ms]) => `| ${name} | ${(ms / N).toFixed(2)} | ${((100 * ms) / machine.nodeMs).toFixed(0)} % |`),
      ]
      : [
        `Where kubecheck's CPU goes (one more preflight under \`node --cpu-prof\` — it samples wall time, so a thread preempted by the hosts' work keeps being counted; install perf for real CPU — ${profile!.totalMs.toFixed(0)} ms on the main thread, ${(profile!.totalMs / N).toFixed(1)} ms/host):`,
        '',
        '| where | ms per host | share |',
        '|---|---|---|',
        ...profile!.buckets.map(([name, ms]) => `| ${name} | ${(ms / N).toFixed(2)} | ${((100 * ms) / profile!.totalMs).toFixed(0)} % |`),
      ];
    const section = [
      '<!-- bench:fleet:begin -->',
      `Measured ${new Date().toISOString().slice(0, 10)} on this machine (${(await sh`nproc`).stdout.trim()} cores), ${N} test hosts ` +
        `(started in ${startupS.toFixed(1)} s), ${FORKS} at a time, median of ${REPEAT} interleaved rounds. Reproduce: \`npm run bench:fleet\` (as root).`,
      '',
      table,
      '',
      'Bars (design.md):',
      verdict,
      '',
      ...where,
      '<!-- bench:fleet:end -->',
    ].join('\n');
    writeBenchSection('fleet', section);
    console.log(section);
  } finally {
    await destroyFleet();
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

/** Which part of kubecheck a sampled stack belongs to: the nearest frame that says. */
function bucketOf(stack: ProfileNode['callFrame'][]): string {
  for (const f of stack) {
    const fn = f.functionName;
    if (f.url.includes('node_modules/ssh2')) return 'SSH protocol and crypto (ssh2)';
    if (/^(parseNodeFacts|parse[A-Z]\w*|splitSections|probeSection|collectNodeFacts|collectNodeFactsHeld|factsOf)$/.test(fn)) return 'parsing the collector output';
    if (/^(judgeNode|judgeFleet|judgeCluster|run)$/.test(fn) && f.url.includes('kubecheck.cjs')) return 'checks';
    if (/^(probeFleet|runHost|dialFromClient|plans|wantedPaths|probeHost|canConnect)$/.test(fn)) return 'probes between hosts (client side)';
    if (/^(openTransport|connect|jump|forward|known|privateKeys|verify|verifyHostKey|entryMatches|patternMatches|globMatch|parseKnownHosts|coalescingSocket|classify)$/.test(fn) && f.url.includes('kubecheck.cjs')) return 'SSH connection setup (keys, known_hosts, socket)';
    if (/^(exec|channel)$/.test(fn) && f.url.includes('kubecheck.cjs')) return 'sending the collector, reading its output';
    if (/^(emitReports|render|consoleReporter|jsonReporter|junitReporter|summarize|sortResults)/.test(fn)) return 'reports';
    if (/^(loadInventory|hostsFrom|loadSuite|resolveConnection|inventoryFrom)$/.test(fn)) return 'inventory and suite';
  }
  const top = stack[0];
  if (top.functionName === '(garbage collector)') return 'garbage collection';
  if (stack.some((f) => /node:internal\/modules|esm\/|compileSourceTextModule/.test(f.url + f.functionName))) return 'start-up: loading modules';
  if (stack.some((f) => /node:(net|_tls|internal\/stream|stream)/.test(f.url))) return 'sockets and streams (Node)';
  return 'other';
}

/** Runs kubecheck once under the CPU profiler and sums its main thread's samples by where they fall. */
async function profileRun(args: string): Promise<{ totalMs: number; buckets: [string, number][] }> {
  const dir = mkdtempSync(join(tmpdir(), 'kubecheck-prof-'));
  try {
    await sh`bash -c ${`${process.execPath} --cpu-prof --cpu-prof-dir=${dir} ${join(ROOT, 'bin/kubecheck.js')} ${args} >/dev/null 2>&1`}`;
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) return { totalMs: 0, buckets: [] };
    const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const sums = new Map<string, number>();
    let total = 0;
    p.samples.forEach((id, i) => {
      const stack: ProfileNode['callFrame'][] = [];
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) stack.push(byId.get(cur)!.callFrame);
      if (stack[0].functionName === '(idle)') return;
      const us = p.timeDeltas[i] ?? 0;
      total += us;
      const b = bucketOf(stack);
      sums.set(b, (sums.get(b) ?? 0) + us);
    });
    return { totalMs: total / 1000, buckets: [...sums].map(([k, v]) => [k, v / 1000] as [string, number]).sort((a, b) => b[1] - a[1]) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Which part of kubecheck a perf call chain (innermost frame first) belongs to: the nearest frame that says. */
function perfBucketOf(frames: string[]): string {
  const js = (re: RegExp) => frames.some((f) => re.test(f));
  for (const f of frames) {
    if (/Scavenger|MarkCompact|Heap::CollectGarbage|IncrementalMarking|ConcurrentMarking/.test(f)) return 'garbage collection';
    if (/v8::internal::(Parser|PreParser|Scanner|Compiler|BytecodeGenerator|baseline::)|Builtins_CompileLazy|CompileLazy/.test(f)) return 'compiling JavaScript';
    if (f.includes('/ssh2/lib') || f.includes('sshcrypto')) return 'SSH protocol and crypto (ssh2)';
    if (/JS:[~*^]*(parseNodeFacts|splitSections|probeSection|parse[A-Z]\w*|factsOf|cniFolder|collectNodeFactsHeld)\b/.test(f)) return 'parsing the collector output';
    if (/JS:[~*^]*(FleetProber|begin|run|launch|wantedPaths|plans|listenPorts|probePlan|probeCommandLine|parseProbeOutput|readOutput|startProbe)\b.*fleet-probes|JS:[~*^]*(wantedPaths|plans|listenPorts|probePlan|parseProbeOutput|startProbe|readOutput)\b/.test(f)) return 'probes between hosts (client side)';
    if (/JS:[~*^]*(criVersion|decodeHeaderBlock|\w*[Hh]pack\w*)\b/.test(f)) return 'CRI Version call';
    if (/JS:[~*^]*(emitReports|render|consoleReporter|jsonReporter|junitReporter|summarize|sortResults|finishRun)\b/.test(f)) return 'reports';
    if (/JS:[~*^]*(loadInventory|loadSuite|parseSuite|compileSchema\w*|hostsFrom|resolveConnection)\b/.test(f)) return 'inventory and suite';
    if (/JS:[~*^]*(judgeNode|judgeFleet|runSuite)\b/.test(f)) return 'checks and the runner';
    if (/JS:[~*^]*(openTransport|connect|privateKeys|verify|knownHostsName|coalescingSocket)\b.*kubecheck/.test(f)) return 'SSH connection setup (keys, known_hosts, socket)';
    if (/node:(net|internal\/stream|stream|internal\/streams)|LibuvStreamWrap|uv__write|uv__read|writev|__libc_write|__libc_read/.test(f)) return 'sockets and streams (Node, the kernel)';
    if (f.includes('node:internal/modules') || f.includes('vm:') ) return 'loading modules';
  }
  if (js(/node:internal\/bootstrap|node:internal\/main/)) return 'Node start-up';
  return frames[0]?.startsWith('ffffffff') ? 'other (kernel)' : 'other';
}

/**
 * Runs kubecheck once under `perf record -a`: the machine's CPU by program (comm) while it runs, and
 * kubecheck's own (every thread of its process) by part. Undefined where perf cannot record here.
 */
async function perfRun(args: string): Promise<{ busyMs: number; programs: [string, number][]; nodeMs: number; buckets: [string, number][] } | undefined> {
  if ((await sh`perf --version`).exitCode !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'kubecheck-perf-'));
  const HZ = 1000;
  try {
    const data = join(dir, 'perf.data');
    const rec = await sh`bash -c ${`perf record -q -a -g -e cpu-clock -F ${HZ} -o ${data} -- ${process.execPath} --perf-basic-prof --interpreted-frames-native-stack ${join(ROOT, 'bin/kubecheck.js')} ${args} >/dev/null 2>&1; echo $?`}`;
    if (!existsSync(data)) return undefined;
    const out = await $({ quiet: true, nothrow: true, timeout: '300s', maxBuffer: 1 << 30 } as Parameters<typeof $>[0])`perf script -i ${data} -F comm,pid,tid,ip,sym`;
    if (!rec.stdout.trim() || out.exitCode !== 0) return undefined;
    const samples: { comm: string; pid: string; tid: string; frames: string[] }[] = [];
    for (const block of out.stdout.split('\n\n')) {
      const lines = block.split('\n').filter((l) => l.trim());
      const head = lines.length ? /^\s*(.+?)\s+(\d+)\/(\d+)\s*$/.exec(lines[0]) : null;
      if (head && head[1] !== 'swapper') samples.push({ comm: head[1], pid: head[2], tid: head[3], frames: lines.slice(1).map((l) => l.trim()) });
    }
    // kubecheck: the node process (its main thread is named node) with the most samples; its threads count too.
    const mains = new Map<string, number>();
    for (const x of samples) if (x.comm === 'node' && x.pid === x.tid) mains.set(x.pid, (mains.get(x.pid) ?? 0) + 1);
    const kubecheckPid = [...mains].sort((a, b) => b[1] - a[1])[0]?.[0];
    const programs = new Map<string, number>();
    const buckets = new Map<string, number>();
    let nodeSamples = 0;
    for (const x of samples) {
      const isKubecheck = x.pid === kubecheckPid;
      const program = isKubecheck ? 'kubecheck (node: the client)' : x.comm.replace(/^(kworker|ksoftirqd|rcu_|migration|kcompactd|kdamond).*/, 'kernel threads');
      programs.set(program, (programs.get(program) ?? 0) + 1);
      if (!isKubecheck) continue;
      nodeSamples++;
      const b = x.pid === x.tid ? perfBucketOf(x.frames) : 'other threads (V8\'s compilers and GC, libuv)';
      buckets.set(b, (buckets.get(b) ?? 0) + 1);
    }
    const busy = samples.length;
    const ms = (n: number) => (n * 1000) / HZ;
    const sorted = (m: Map<string, number>) => [...m].map(([k, v]) => [k, ms(v)] as [string, number]).sort((a, b) => b[1] - a[1]);
    return { busyMs: ms(busy), programs: sorted(programs).filter(([, v]) => v >= 1), nodeMs: ms(nodeSamples), buckets: sorted(buckets) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await sh`bash -c ${'rm -f /tmp/perf-*.map'}`;
  }
}

await main();
