import { createInterface } from 'node:readline';

/** Reads a secret from the terminal without echoing it. Fails when there is no terminal to ask on. */
export async function promptSecret(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new Error('--ask-pass needs a terminal; set KUBECHECK_SSH_PASSWORD instead');
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const output = rl as unknown as { _writeToOutput: (s: string) => void };
  process.stderr.write(question);
  output._writeToOutput = () => undefined;
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}
