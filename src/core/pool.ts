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

/** Resolves with the promise, or rejects after `ms` or when `signal` aborts, whichever is first. */
export function withTimeout<T>(promise: Promise<T>, ms: number, signal: AbortSignal, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(`${what} did not finish within ${ms} ms`)), ms);
    const onAbort = () => reject(new InterruptedError(`${what} was interrupted`));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
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
  const onAbort = () => controller.abort(parent.reason);
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new TimeoutError(`timed out after ${ms} ms`));
  }, Math.max(1, Math.ceil(ms)));
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => expired,
    clear: () => {
      clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
    },
  };
}

export class TimeoutError extends Error {
  override name = 'TimeoutError';
}
export class InterruptedError extends Error {
  override name = 'InterruptedError';
}
