const DIGITS = /(\d+)/;

/**
 * Natural order for host and node names (w2 before w10). Plain JS: Intl collators are slow when a run
 * sorts thousands of results.
 */
export function natural(a: string, b: string): number {
  if (a === b) return 0;
  const pa = a.split(DIGITS);
  const pb = b.split(DIGITS);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] === pb[i]) continue;
    // Odd positions are digit runs (split keeps the captured group).
    if (i % 2 === 1) {
      const d = Number(pa[i]) - Number(pb[i]);
      if (d !== 0) return d;
      return pa[i].length - pb[i].length;
    }
    return pa[i] < pb[i] ? -1 : 1;
  }
  return pa.length - pb.length;
}
