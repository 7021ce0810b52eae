/** Runs `work` over `items` with at most `limit` at a time; stops starting new items once `signal` aborts. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (!signal.aborted && next < items.length) {
      const index = next++;
      await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

const subscribers = new WeakMap<AbortSignal, Set<() => void>>();

/** The one 'abort' listener of `signal`: calls every subscriber (see onAbort). */
function listen(signal: AbortSignal): Set<() => void> {
  const fns = new Set<() => void>();
  subscribers.set(signal, fns);
  signal.addEventListener('abort', () => {
    subscribers.delete(signal);
    for (const f of fns) {
      try {
        f();
      } catch (err: unknown) {
        // As EventTarget does with a listener that throws: the others still run, the error is not lost.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
    fns.clear();
  }, { once: true });
  return fns;
}

/**
 * Calls `fn` when `signal` aborts (not if it already has, like an 'abort' listener); returns what stops
 * that. One listener per signal for every subscriber: EventTarget finds a listener to remove by walking
 * all of them, and thousands of hosts waiting on the run's one signal made each removal walk thousands.
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  if (signal.aborted) return () => undefined;
  const fns = subscribers.get(signal) ?? listen(signal);
  // Its own entry: the same function subscribed twice is two subscriptions, each stopped on its own.
  const entry = () => fn();
  fns.add(entry);
  return () => {
    fns.delete(entry);
  };
}

/** Resolves with the promise, or rejects after `ms` or when `signal` aborts, whichever is first. */
export function withTimeout<T>(promise: Promise<T>, ms: number, signal: AbortSignal, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(`${what} did not finish within ${ms} ms`)), ms);
    const unsubscribe = onAbort(signal, () => reject(new InterruptedError(`${what} was interrupted`)));
    promise.then(
      (v) => {
        clearTimeout(timer);
        unsubscribe();
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        unsubscribe();
        reject(e);
      },
    );
  });
}

/**
 * A signal that aborts when `parent` does or after `ms`. Not `AbortSignal.any([parent,
 * AbortSignal.timeout(ms)])`: on Node 20 the timeout signal inside a composite can be garbage collected
 * and never fire (nodejs/node#57736), which left waits hanging. `clear()` stops the timer when done.
 */
export function deadline(parent: AbortSignal, ms: number): { signal: AbortSignal; timedOut: () => boolean; clear: () => void } {
  const controller = new AbortController();
  let expired = false;
  const abort = () => controller.abort(parent.reason);
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new TimeoutError(`timed out after ${ms} ms`));
  }, Math.max(1, Math.ceil(ms)));
  if (parent.aborted) abort();
  const unsubscribe = onAbort(parent, abort);
  return {
    signal: controller.signal,
    timedOut: () => expired,
    clear: () => {
      clearTimeout(timer);
      unsubscribe();
    },
  };
}

export class TimeoutError extends Error {
  override name = 'TimeoutError';
}
export class InterruptedError extends Error {
  override name = 'InterruptedError';
}
