import type { SwapDevice } from '../../core/facts.js';

/** /proc/swaps: a header line, then one line per active swap device (sizes in KiB). */
export function parseProcSwaps(text: string): SwapDevice[] {
  const devices: SwapDevice[] = [];
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5 || cols[0] === 'Filename') continue;
    const [size, used, priority] = [Number(cols[2]), Number(cols[3]), Number(cols[4])];
    if (![size, used, priority].every(Number.isFinite)) throw new Error(`unexpected /proc/swaps line: ${line.trim()}`);
    // Paths with spaces are printed with \040 escapes.
    devices.push({ device: cols[0].replace(/\\040/g, ' '), type: cols[1], sizeKiB: size, usedKiB: used, priority });
  }
  return devices;
}

/** The uncommented /etc/fstab entries whose type is swap (they turn swap back on at boot). */
export function parseFstabSwap(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .filter((line) => line.split(/\s+/)[2] === 'swap');
}

export function formatKiB(kib: number): string {
  if (kib >= 1024 * 1024) return `${(kib / 1024 / 1024).toFixed(kib % (1024 * 1024) ? 1 : 0)} GiB`;
  if (kib >= 1024) return `${Math.round(kib / 1024)} MiB`;
  return `${kib} KiB`;
}
