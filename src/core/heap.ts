// A bound on the garbage a long fan-in keeps. Each node's exec lives long enough (its output, its
// WebSocket and TLS state, its parsing) for V8 to promote what it allocated to the old generation, and
// V8 lets the old generation grow to several times what is live before its next full collection: on
// 5,000 nodes ~130 MiB live peaked at ~380 MiB of heap. Past a soft limit, the fan-in asks for a full
// collection itself (a few, ~0.1 s each) instead of waiting for V8's.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let exposed: (() => void) | undefined;

/** A full collection now (V8's `gc`, exposed at run time); false where it cannot be had. */
export function fullCollection(): boolean {
  if (!exposed) {
    try {
      // `gc` is exposed to contexts created after the flag is set (a new context, not this module's).
      setFlagsFromString('--expose-gc');
      const gc: unknown = runInNewContext('gc');
      if (typeof gc === 'function') exposed = gc as () => void;
    } catch {
      // Without it, V8 collects when it would.
    }
  }
  exposed?.();
  return exposed !== undefined;
}

/**
 * Returns a check to call as work completes: when the used heap is over `softLimitBytes` and has grown by
 * half of it since the last collection asked for, a full collection runs. Cheap to call often.
 */
export function heapBound(softLimitBytes: number, used = () => getHeapStatistics().used_heap_size, collect = fullCollection): () => void {
  let floor = 0;
  return () => {
    const now = used();
    if (now < softLimitBytes || now - floor < softLimitBytes / 2) return;
    if (collect()) floor = used();
  };
}
