// The floor for bench:fleet: kubecheck's own SSH transport opening one connection per host and running
// a bare `true` — what the full preflight costs beyond this is the collector and the checks.
import { setMaxListeners } from 'node:events';
import { loadInventory } from '../src/inventory/load.js';
import { sshTarget } from '../src/inventory/targets.js';
import { forEachLimited } from '../src/core/pool.js';
import { SshConnector } from '../src/transports/ssh.js';

const inventory = await loadInventory(process.argv[2]);
const connector = new SshConnector({ connectTimeoutMs: 10_000 });
const signal = new AbortController().signal;
setMaxListeners(0, signal);
let failed = 0;
await forEachLimited(inventory.hosts, 32, signal, async (host) => {
  try {
    const t = await connector.openTransport(sshTarget(host), signal);
    await t.exec('true', { timeoutMs: 30_000, signal });
    await t.close();
  } catch {
    failed++;
  }
});
await connector.close();
process.exitCode = failed ? 1 : 0;
