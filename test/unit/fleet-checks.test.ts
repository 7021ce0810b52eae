import { describe, expect, it } from 'vitest';
import { clockSkew } from '../../checks/fleet/clock-skew.js';
import { hostnameUnique } from '../../checks/fleet/hostname-unique.js';
import { macUnique } from '../../checks/fleet/mac-unique.js';
import { productUuidUnique } from '../../checks/fleet/product-uuid-unique.js';
import { parseNodeFacts } from '../../src/collectors/node/index.js';
import type { FleetMember } from '../../src/core/types.js';
import { fixture, fleetCtx, withSections } from '../helpers.js';

const base = fixture('collector/cp1-post-healthy.txt');

function host(name: string, opts: { uuid?: string; hostname?: string; macs?: [string, string][]; clockMs?: number; clientMs?: number; rtt?: number } = {}): FleetMember {
  const macs = opts.macs ?? [['ens3', `52:54:00:00:00:${name.slice(-2).padStart(2, '0')}`]];
  const ipaddr = JSON.stringify([
    { ifname: 'lo', address: '00:00:00:00:00:00', flags: ['UP'] },
    ...macs.map(([ifname, address]) => ({ ifname, address, flags: ['UP'] })),
  ]);
  const clockMs = opts.clockMs ?? 1_780_000_000_000;
  const text = withSections(base, {
    meta: [`hostname=${opts.hostname ?? name}\nuid=0\ncpus=4\nmemkib=8000000`, 0],
    uuid: [opts.uuid ?? `uuid-${name}`, 0],
    ipaddr: [ipaddr, 0],
    clock: [(clockMs / 1000).toFixed(3), 0],
  });
  const client = opts.clientMs ?? 1_780_000_000_000;
  const rtt = opts.rtt ?? 20;
  return { host: name, roles: ['worker'], facts: parseNodeFacts(text, { sentAt: client - rtt / 2, firstByteAt: client + rtt / 2, endedAt: client + 50 }) };
}

const statuses = (m: Map<string, { status: string }>) => Object.fromEntries([...m].map(([h, f]) => [h, f.status]));

describe('fleet.product-uuid-unique', () => {
  it('fails every host of a duplicate pair, naming the other', () => {
    const out = productUuidUnique.run([host('h1', { uuid: 'same' }), host('h2'), host('h3', { uuid: 'same' })], fleetCtx());
    expect(statuses(out)).toEqual({ h1: 'fail', h2: 'pass', h3: 'fail' });
    expect(out.get('h1')?.message).toBe('product_uuid same is also on h3');
    expect(out.get('h3')?.message).toBe('product_uuid same is also on h1');
  });
  it('skips a host with no DMI product_uuid and errors when it is unreadable', () => {
    const missing = host('h1');
    missing.facts = { ...missing.facts, productUuid: { ok: false, reason: 'missing', detail: 'no dmi' } };
    const denied = host('h2');
    denied.facts = { ...denied.facts, productUuid: { ok: false, reason: 'denied', detail: 'Permission denied' } };
    expect(statuses(productUuidUnique.run([missing, denied], fleetCtx()))).toEqual({ h1: 'skip', h2: 'error' });
  });
});

describe('fleet.mac-unique', () => {
  it('fails both hosts sharing a MAC and ignores CNI and virtual links', () => {
    const out = macUnique.run([
      host('h1', { macs: [['ens3', 'aa:bb:cc:00:00:01'], ['cni0', '0a:00:00:00:00:99'], ['flannel.1', '0a:00:00:00:00:98']] }),
      host('h2', { macs: [['eth1', 'aa:bb:cc:00:00:01'], ['cni0', '0a:00:00:00:00:99'], ['veth0abc', '0a:00:00:00:00:98']] }),
      host('h3', { macs: [['ens3', 'aa:bb:cc:00:00:03'], ['docker0', '0a:00:00:00:00:99']] }),
    ], fleetCtx());
    expect(statuses(out)).toEqual({ h1: 'fail', h2: 'fail', h3: 'pass' });
    expect(out.get('h1')?.message).toBe('MAC aa:bb:cc:00:00:01 (ens3) is also on h2');
    expect(out.get('h2')?.message).toBe('MAC aa:bb:cc:00:00:01 (eth1) is also on h1');
  });
  it('does not fail a host whose own links share a MAC (bond members, VLANs)', () => {
    const out = macUnique.run([host('h1', { macs: [['bond0', 'aa:bb:cc:00:00:01'], ['ens3', 'aa:bb:cc:00:00:01']] }), host('h2')], fleetCtx());
    expect(statuses(out)).toEqual({ h1: 'pass', h2: 'pass' });
  });
});

describe('fleet.hostname-unique', () => {
  it('fails hosts with the same hostname, case-insensitively', () => {
    const out = hostnameUnique.run([host('h1', { hostname: 'node' }), host('h2', { hostname: 'NODE' }), host('h3')], fleetCtx());
    expect(statuses(out)).toEqual({ h1: 'fail', h2: 'fail', h3: 'pass' });
    expect(out.get('h2')?.message).toBe("hostname 'NODE' is also the hostname of h1");
  });
  it('names at most eight of the others, so a fleet of thousands of clones gives small findings', () => {
    const clones = Array.from({ length: 30 }, (_, i) => host(`n${String(i + 1).padStart(2, '0')}`, { hostname: 'golden-image' }));
    const out = hostnameUnique.run(clones, fleetCtx());
    expect(out.get('n01')?.message).toBe("hostname 'golden-image' is also the hostname of n02, n03, n04, n05, n06, n07, n08, n09 and 21 more");
    expect(out.get('n30')?.status).toBe('fail');
  });
});

describe('fleet.clock-skew', () => {
  const t = 1_780_000_000_000;
  it('fails the host whose clock is far from the fleet median, with round-trip compensation', () => {
    const out = clockSkew.run([host('h1', { clockMs: t }), host('h2', { clockMs: t + 300 }), host('h3', { clockMs: t + 5_000 })], fleetCtx());
    expect(statuses(out)).toEqual({ h1: 'pass', h2: 'pass', h3: 'fail' });
    expect(out.get('h3')?.message).toBe('clock is 4.7 s ahead of the other hosts (limit 2.0 s)');
  });
  it('with two hosts, fails both when they disagree', () => {
    const out = clockSkew.run([host('h1', { clockMs: t }), host('h2', { clockMs: t - 3_000 })], fleetCtx());
    expect(statuses(out)).toEqual({ h1: 'fail', h2: 'fail' });
    expect(out.get('h2')?.message).toBe('clock is 3.0 s behind h1 (limit 2.0 s)');
  });
  it('gives a slow link the benefit of its measurement uncertainty', () => {
    // 2.3 s apart but measured over a 1 s round trip: within the limit once ±0.5 s is allowed.
    const out = clockSkew.run([host('h1', { clockMs: t }), host('h2', { clockMs: t + 2_300, rtt: 1_000 })], fleetCtx());
    expect(out.get('h2')?.status).toBe('pass');
  });
  it('honours maxSkewMs, and errors for a host that reported no clock', () => {
    const noClock = host('h3');
    noClock.facts = { ...noClock.facts, clock: null };
    const out = clockSkew.run([host('h1', { clockMs: t }), host('h2', { clockMs: t + 600 }), noClock], fleetCtx({ params: { maxSkewMs: 500 } }));
    expect(statuses(out)).toEqual({ h3: 'error', h1: 'fail', h2: 'fail' });
  });
});
