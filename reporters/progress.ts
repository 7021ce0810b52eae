import type { Ora } from 'ora';
import type { ProgressEvent } from '../src/core/runner.js';

export interface Progress {
  update(event: ProgressEvent): void;
  stop(): void;
}

/**
 * Live progress on stderr. ora animates only on an interactive terminal outside CI; elsewhere it stays
 * silent, so logs and pipes get no spinner frames.
 */
export async function createProgress(options: { enabled: boolean; stream?: NodeJS.WriteStream }): Promise<Progress> {
  const stream = options.stream ?? process.stderr;
  // ora would stay silent anyway off a terminal or in CI; not loading it there saves its import time.
  if (!options.enabled || !stream.isTTY || process.env.CI) return { update: () => undefined, stop: () => undefined };
  const { default: ora } = await import('ora');
  let spinner: Ora | undefined;
  let failing = 0;
  return {
    update(event) {
      if (event.type === 'start') {
        spinner = ora({ text: `checking ${event.targets} target${event.targets === 1 ? '' : 's'}…`, stream, discardStdin: false });
        if (spinner.isEnabled) spinner.start();
        return;
      }
      if (event.failing) failing++;
      if (spinner) spinner.text = `hosts ${event.done}/${event.total} done, ${failing} failing (last: ${event.target})`;
    },
    stop() {
      if (spinner?.isSpinning) spinner.stop();
    },
  };
}
