// The layering, checked on the import graph: transports ← collectors/k8s ← checks/doctor/scenarios ←
// runner ← CLI; the core (types, executors, runner) imports nothing above it; reporters only read results.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

/** Which layer a source file is in, by its folder. */
function layerOf(file: string): string {
  const rel = relative(ROOT, file).replace(/\.ts$/, '');
  if (rel.startsWith('checks/')) return 'checks';
  if (rel.startsWith('reporters/')) return 'reporters';
  const m = /^src\/([a-z0-9-]+)\//.exec(rel);
  if (m) return m[1];
  return rel === 'src/cli' ? 'cli' : rel.replace(/^src\//, '');
}

/** What each layer may import (besides itself, node: built-ins and npm packages). */
const ALLOWED: Record<string, string[]> = {
  core: [],
  profiles: ['core'],
  transports: ['core'],
  collectors: ['core', 'transports', 'profiles'],
  k8s: ['core', 'profiles'],
  checks: ['core', 'profiles', 'collectors', 'k8s', 'scenarios'],
  scenarios: ['core', 'k8s'],
  doctor: ['core', 'profiles', 'collectors', 'k8s'],
  fixes: ['core', 'profiles', 'collectors', 'transports'],
  suites: ['core', 'checks'],
  inventory: ['core', 'transports', 'collectors'],
  incluster: ['core', 'transports', 'collectors', 'k8s', 'profiles'],
  reporters: ['core'],
  cli: ['*'],
  catalogue: ['core', 'checks'],
  index: ['*'],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g)].map((m) => m[1] ?? m[2]);
}

describe('layering', () => {
  const files = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'checks')), ...sources(join(ROOT, 'reporters'))];
  it('every source file is in a known layer', () => {
    for (const f of files) expect(Object.keys(ALLOWED), relative(ROOT, f)).toContain(layerOf(f));
  });
  it('no layer imports one above it (type-only imports included)', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      const allowed = ALLOWED[from];
      if (allowed.includes('*')) continue;
      for (const spec of imports(file)) {
        const to = layerOf(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
        if (to !== from && !allowed.includes(to)) wrong.push(`${relative(ROOT, file)} (${from}) imports ${spec} (${to})`);
      }
    }
    expect(wrong).toEqual([]);
  });
  it('the CLI entry point is a page long; each command is a file of its own', () => {
    expect(readFileSync(join(ROOT, 'src/cli.ts'), 'utf8').split('\n').length).toBeLessThan(110);
    expect(readdirSync(join(ROOT, 'src/cli/commands')).sort()).toEqual(['catalogue.ts', 'cleanup.ts', 'diff.ts', 'doctor.ts', 'fix.ts', 'inventory.ts', 'preflight.ts', 'run.ts', 'smoke.ts']);
  });
});
