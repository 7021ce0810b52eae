const collator = new Intl.Collator('en', { numeric: true });

/** Natural order for host and node names (w2 before w10), with one shared collator (creating one per call is slow). */
export const natural = (a: string, b: string): number => collator.compare(a, b);
