import type { NodeFacts } from '../../src/core/facts.js';

/**
 * How to (re)start a service on this host: systemctl where systemd runs, else a plain instruction (the
 * host's own init system starts it). One place, so checks, doctor and fixes say the same thing.
 */
export function restartCommand(facts: NodeFacts, ...units: string[]): string {
  if (facts.init === 'systemd') return `systemctl restart ${units.join(' ')}`;
  return `restart ${units.join(' and ')} with this host's init system (it does not run systemd)`;
}
