import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withCatalogue } from '../../src/catalogue.js';
import { withImages } from '../../scripts/cluster-images.js';
import { CHECKS } from '../../checks/index.js';
import { ROOT } from '../helpers.js';

describe('README', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  it('carries the catalogue generated from the registry (npm run catalogue)', () => {
    expect(withCatalogue(readme)).toBe(readme);
    for (const c of CHECKS) expect(readme).toContain(`\`${c.id}\``);
  });
  it('lists the real cluster\'s images as scripts/cluster-images.ts builds them (npm run catalogue)', () => {
    expect(withImages(readme)).toBe(readme);
  });
  it('has the two quick-start commands that .ci/run and users rely on', () => {
    expect(readme).toContain('npm ci && ./bin/kubecheck.js preflight --local');
    expect(readme).toContain('npm test');
    expect(readFileSync(join(ROOT, '.ci/run'), 'utf8')).toContain('npm test');
  });
});
