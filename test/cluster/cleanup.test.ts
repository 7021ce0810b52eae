// kubecheck cleanup on the real control plane: it removes namespaces a killed scenario left behind,
// and nothing else.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureNamespace, until } from '../../scripts/cluster-fixtures.js';
import { KubeApi } from '../../src/k8s/api.js';
import { kubecheck } from './helpers.js';

const kubeconfig = inject('kubeconfig');
let api: KubeApi;
const exists = async (ns: string) => {
  const res = await api.request('GET', `/api/v1/namespaces/${ns}`);
  return res.status === 200;
};

beforeAll(async () => {
  api = await KubeApi.connect({ kubeconfig });
  // What a killed `workload.canary` run leaves: its labelled namespace (with a ConfigMap in it), and an
  // unrelated namespace that must survive.
  await ensureNamespace(api, 'kubecheck-canary-killed', { 'app.kubernetes.io/managed-by': 'kubecheck' });
  await api.send('POST', '/api/v1/namespaces/kubecheck-canary-killed/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'left-over' }, data: { a: 'b' } });
  await ensureNamespace(api, 'team-app');
});

afterAll(async () => {
  await api.send('DELETE', '/api/v1/namespaces/team-app', undefined).catch(() => undefined);
});

describe('kubecheck cleanup', () => {
  it('lists leftovers with --dry-run and changes nothing', async () => {
    const out = await kubecheck('cleanup', '--kubeconfig', kubeconfig, '--dry-run');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^would delete namespace kubecheck-canary-killed \(created /m);
    expect(out.stdout).not.toContain('team-app');
    expect(await exists('kubecheck-canary-killed')).toBe(true);
  });

  it('removes the labelled namespace and only it, then finds nothing more', async () => {
    const out = await kubecheck('cleanup', '--kubeconfig', kubeconfig, '--timeout', '60');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('deleting namespace kubecheck-canary-killed');
    expect(out.stdout).toContain('removed 1 namespace');
    await until('the namespace to be gone', 30_000, async () => !(await exists('kubecheck-canary-killed')));
    expect(await exists('team-app')).toBe(true);
    const again = await kubecheck('cleanup', '--kubeconfig', kubeconfig);
    expect(again.stdout).toBe('no namespaces labelled app.kubernetes.io/managed-by=kubecheck: nothing to clean up\n');
  });
});
