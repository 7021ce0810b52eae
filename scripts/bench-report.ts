// Benchmarks write their numbers into BENCHMARKS.md between markers of their own, replacing the last run's.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/core/assets.js';

/** Replaces the `<!-- bench:NAME:begin -->…<!-- bench:NAME:end -->` block of BENCHMARKS.md with `body`. */
export function writeBenchSection(name: string, body: string): void {
  const path = join(packageRoot(), 'BENCHMARKS.md');
  const begin = `<!-- bench:${name}:begin -->`;
  const end = `<!-- bench:${name}:end -->`;
  const text = readFileSync(path, 'utf8');
  const block = `${begin}\n${body.replace(new RegExp(`^${begin}\\n?|\\n?${end}$`, 'g'), '')}\n${end}`;
  if (!text.includes(begin)) throw new Error(`BENCHMARKS.md has no ${begin} marker`);
  writeFileSync(path, text.replace(new RegExp(`${begin}[\\s\\S]*${end}`), () => block));
}

/** A process's name and CPU ticks (1/100 s) from /proc/PID/stat: its own, and its reaped children's. */
export function procStat(pid: number): { comm: string; ownTicks: number; childTicks: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  // After "(comm) " the state is field 3: utime, stime, cutime, cstime (fields 14-17) are at 11-14.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { comm, ownTicks: Number(fields[11]) + Number(fields[12]), childTicks: Number(fields[13]) + Number(fields[14]) };
}
