import type { NodeCheck } from '../../src/core/types.js';
import type { ProxySetting } from '../../src/core/facts.js';
import { cidrContains, parseCidr, parseIp } from '../../src/core/cidr.js';
import { combine, pass, warn } from '../../src/core/findings.js';
import { defaultRouteAddress } from '../../src/collectors/node/node-address.js';

/** The first address of a CIDR, which kubeadm's HTTPProxyCIDR check asks the proxy settings about. */
function firstAddress(cidr: string): string | undefined {
  const c = parseCidr(cidr);
  if (!c || c.family !== 4) return undefined;
  const n = c.network + 1n;
  return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
}

/** Whether NO_PROXY keeps `ip` off the proxy, as Go's net/http (httpproxy) reads it: `*`, addresses, CIDRs. */
export function noProxyCovers(noProxy: string | undefined, ip: string): boolean {
  const addr = parseIp(ip);
  if (!addr) return false;
  for (const raw of (noProxy ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    if (raw === '*') return true;
    const cidr = parseCidr(raw);
    if (cidr && cidrContains(cidr, addr)) return true;
    const host = raw.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    if (host === ip) return true;
  }
  return false;
}

/** A source's effective values, as Go reads the environment: HTTPS_PROXY before https_proxy, NO_PROXY before no_proxy. */
function effective(settings: ProxySetting[]): { https?: ProxySetting; noProxy?: string } {
  const get = (name: string) => settings.find((s) => s.name === name.toUpperCase()) ?? settings.find((s) => s.name === name.toLowerCase());
  const https = get('https_proxy');
  const noProxy = get('no_proxy')?.value;
  return { ...(https && https.value ? { https } : {}), ...(noProxy !== undefined ? { noProxy } : {}) };
}

const SOURCE_WHAT: Record<string, string> = {
  env: 'this login session (kubeadm run from it)',
  '/etc/environment': '/etc/environment (every login session)',
};

export const proxy: NodeCheck = {
  kind: 'node',
  id: 'node.proxy',
  title: 'A configured proxy leaves the node, Service and pod addresses alone',
  area: 'node',
  codes: {
    'cluster-traffic-proxied': 'an HTTPS proxy is set and NO_PROXY does not cover the node address, the Service CIDR or the pod CIDR',
  },
  why:
    'kubeadm, the kubelet and the runtime use HTTPS_PROXY for every address NO_PROXY does not name: with the ' +
    'node address or the Service/pod CIDRs missing from NO_PROXY, API and pod traffic goes to the proxy ' +
    '(kubeadm warns "connection uses proxy"; the cluster then half-works).',
  remediation: 'add the node addresses, the Service CIDR and the pod CIDR to NO_PROXY (and no_proxy) wherever HTTPS_PROXY is set, e.g. NO_PROXY=localhost,127.0.0.1,10.0.0.0/8,10.96.0.0/12,10.244.0.0/16',
  params: {
    type: 'object',
    properties: {
      serviceSubnet: { type: 'string', description: 'the Service CIDR (default 10.96.0.0/12, kubeadm\'s)' },
      podSubnet: { type: 'string', description: 'the pod CIDR (default 10.244.0.0/16, flannel\'s)' },
    },
    additionalProperties: false,
  },
  run(facts, ctx) {
    const sources = [...new Set(facts.proxy.map((p) => p.source))];
    const evidence = { proxy: facts.proxy.map((p) => `${p.source}: ${p.name}=${p.value}`).join('\n') || 'no proxy settings' };
    const service = typeof ctx.params.serviceSubnet === 'string' ? ctx.params.serviceSubnet : '10.96.0.0/12';
    const pod = typeof ctx.params.podSubnet === 'string' ? ctx.params.podSubnet : '10.244.0.0/16';
    const node = defaultRouteAddress(facts)?.address;
    const targets = [
      ...(node ? [{ ip: node, what: `the node address ${node}` }] : []),
      ...[[service, 'Service'], [pod, 'pod']].flatMap(([cidr, what]) => {
        const ip = firstAddress(cidr);
        return ip ? [{ ip, what: `the ${what} CIDR ${cidr} (${ip})` }] : [];
      }),
    ];
    const problems = sources.flatMap((source) => {
      const { https, noProxy } = effective(facts.proxy.filter((p) => p.source === source));
      if (!https) return [];
      const proxied = targets.filter((t) => !noProxyCovers(noProxy, t.ip));
      if (!proxied.length) return [];
      return [warn(`${SOURCE_WHAT[source] ?? source} sets ${https.name}=${https.value} and NO_PROXY${noProxy !== undefined ? `=${noProxy}` : ' is not set'}: connections to ${proxied.map((t) => t.what).join(', ')} go to the proxy`, {
        evidence, code: 'cluster-traffic-proxied',
      })];
    });
    const set = sources.filter((s) => effective(facts.proxy.filter((p) => p.source === s)).https);
    return combine(problems, pass(set.length ? `HTTPS proxy set (${set.join(', ')}); NO_PROXY covers the node, Service and pod addresses` : 'no HTTPS proxy configured', { evidence }));
  },
};
