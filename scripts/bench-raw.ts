// The client-side floor for bench:fleet: a plain ssh2 client (no kubecheck code) that opens one connection
// per host, authenticates with the key, runs `true` and closes — handshake, auth and one exec, nothing
// else (no known_hosts check, no inventory). Usage: bench-raw.js HOSTS_FILE KEY [CONCURRENCY]
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';

const [hostsFile, keyFile, concurrency = '32'] = process.argv.slice(2);
const hosts = readFileSync(hostsFile, 'utf8').split('\n').map((l) => l.trim().replace(/^.*@/, '')).filter(Boolean);
const privateKey = readFileSync(keyFile);
let failed = 0;
let next = 0;

function run(host: string): Promise<void> {
  return new Promise((resolve) => {
    const c = new ssh2.Client();
    const done = (ok: boolean) => {
      if (!ok) failed++;
      c.end();
      resolve();
    };
    c.on('ready', () => {
      c.exec('true', (err, stream) => {
        if (err) return done(false);
        stream.on('close', (code: number) => done(code === 0)).resume();
      });
    });
    c.on('error', () => done(false));
    c.connect({ host, port: 22, username: 'root', privateKey, readyTimeout: 30_000, hostVerifier: () => true });
  });
}

await Promise.all(Array.from({ length: Number(concurrency) }, async () => {
  while (next < hosts.length) await run(hosts[next++]);
}));
process.exitCode = failed ? 1 : 0;
