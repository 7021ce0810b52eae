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
