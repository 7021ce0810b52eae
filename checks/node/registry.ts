import type { Finding, NodeCheck } from '../../src/core/types.js';
import { combine, fail, pass, warn } from '../../src/core/findings.js';
import { registryEndpoints } from '../../src/collectors/node/preinstall.js';
import { VERSION_PARAM, targetVersion } from './target-version.js';

const CRI_DOCKERD = 'install cri-dockerd (https://mirantis.github.io/cri-dockerd/) and run kubeadm with --cri-socket unix:///var/run/cri-dockerd.sock, or use containerd';

export const registry: NodeCheck = {
  kind: 'node',
  id: 'node.registry',
  title: 'The runtime can pull: its registry and mirrors are configured, trusted and reachable',
  area: 'node',
  codes: {
    'docker-without-cri-dockerd': 'Docker is the runtime but cri-dockerd is not there: Kubernetes 1.24+ has no dockershim',
    'daemon-json-invalid': '/etc/docker/daemon.json is not valid JSON: dockerd does not start',
    'registry-not-configured': 'the registry the cluster pulls from is not configured for the runtime (mirror, insecure/plain HTTP)',
    'ca-not-configured': 'no CA is configured for the registry (fine only if its certificate is publicly trusted)',
    'unreachable': 'a registry or mirror the runtime is configured for cannot be reached from the host',
  },
  why:
    'Every pod starts with an image pull: an air-gapped or mirrored install works only when the runtime is told ' +
    'about the mirror (containerd\'s certs.d/HOST/hosts.toml, Docker\'s registry-mirrors / insecure-registries), ' +
    'trusts its CA and can reach it; with Docker, Kubernetes 1.24+ also needs cri-dockerd.',
  remediation: [
    'mkdir -p /etc/containerd/certs.d/REGISTRY && cat > /etc/containerd/certs.d/REGISTRY/hosts.toml <<EOF',
    'server = "https://REGISTRY"', '[host."https://REGISTRY"]', '  capabilities = ["pull", "resolve"]', '  ca = "/etc/containerd/certs.d/REGISTRY/ca.crt"', 'EOF',
    '# and config_path = "/etc/containerd/certs.d" under [plugins."io.containerd.grpc.v1.cri".registry] in /etc/containerd/config.toml',
  ].join('\n'),
  params: {
    type: 'object',
    properties: {
      ...VERSION_PARAM,
      registry: { type: 'string', description: 'the registry the cluster pulls from (host:port, http://host:port for plain HTTP)' },
    },
    additionalProperties: false,
  },
  run(facts, ctx) {
    const cfg = facts.runtimeConfig;
    const endpoints = registryEndpoints(cfg);
    const evidence: Record<string, string> = {
      endpoints: endpoints.map((e) => `${e.url} (${e.from})`).join('\n') || 'none configured',
      ...(facts.endpoints ? { reached: facts.endpoints.map((e) => `${e.address}: ${e.ok ? 'reached' : e.detail}`).join('\n') } : {}),
    };
    const problems: Finding[] = [];
    const target = targetVersion(facts, ctx);
    const docker = facts.processes.some((p) => p.comm === 'dockerd') || facts.runtimesInstalled.includes('dockerd');
    const criDockerd = facts.runtimesInstalled.includes('cri-dockerd') || facts.processes.some((p) => p.comm === 'cri-dockerd') || facts.runtimeSockets.some((s) => s.path.includes('cri-dockerd'));
    const otherCri = facts.runtimeSockets.some((s) => s.listening && !s.path.includes('cri-dockerd'));
    if (docker && !criDockerd && !otherCri && target.minor >= 24) {
      problems.push(fail(`Docker is installed but cri-dockerd is not, and no other CRI socket answers: Kubernetes ${target.version} has no dockershim`, { evidence, code: 'docker-without-cri-dockerd', remediation: CRI_DOCKERD }));
    }
    if (cfg.dockerDaemon?.error) problems.push(fail(`/etc/docker/daemon.json is not valid JSON: ${cfg.dockerDaemon.error}`, { evidence: { ...evidence, 'daemon.json': cfg.dockerDaemon.text }, code: 'daemon-json-invalid' }));
    const wanted = typeof ctx.params.registry === 'string' ? ctx.params.registry : undefined;
    if (wanted) {
      const plain = wanted.startsWith('http://');
      const hostPort = wanted.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
      const containerd = endpoints.filter((e) => e.from.startsWith('/etc/containerd') && (e.registry === hostPort || e.url.replace(/^https?:\/\//, '').startsWith(hostPort)));
      const dockerMirrors = Array.isArray(cfg.dockerDaemon?.json?.['registry-mirrors']) ? (cfg.dockerDaemon!.json!['registry-mirrors'] as unknown[]).map(String) : [];
      const insecure = Array.isArray(cfg.dockerDaemon?.json?.['insecure-registries']) ? (cfg.dockerDaemon!.json!['insecure-registries'] as unknown[]).map(String) : [];
      const dockerKnows = dockerMirrors.some((m) => m.includes(hostPort)) || insecure.some((i) => i.includes(hostPort));
      const viaDocker = docker && criDockerd;
      if (viaDocker ? !dockerKnows : containerd.length === 0) {
        problems.push(fail(`${wanted} is not configured for ${viaDocker ? 'Docker (registry-mirrors / insecure-registries)' : 'containerd (no certs.d/' + hostPort + '/hosts.toml or mirror endpoint)'}`, { evidence, code: 'registry-not-configured' }));
      } else if (plain && !viaDocker && !containerd.some((e) => e.url.startsWith('http://'))) {
        problems.push(fail(`${wanted} is plain HTTP but containerd's configuration for it uses HTTPS`, { evidence, code: 'registry-not-configured' }));
      } else if (plain && viaDocker && !insecure.some((i) => i.includes(hostPort))) {
        problems.push(fail(`${wanted} is plain HTTP but is not in Docker's insecure-registries`, { evidence, code: 'registry-not-configured' }));
      } else if (!plain) {
        const caDir = cfg.certDirs.find((d) => d.host === hostPort);
        const hostsCa = cfg.containerdHosts.some((h) => h.file.includes(`/${hostPort}/`) && /^\s*ca\s*=/m.test(h.content));
        if (!hostsCa && !caDir?.files.some((f) => f.endsWith('.crt'))) {
          problems.push(warn(`no CA configured for ${wanted} (certs.d/${hostPort}/ca.crt or ca = in hosts.toml): fine only if its certificate is publicly trusted`, { evidence, code: 'ca-not-configured' }));
        }
      }
    }
    for (const e of facts.endpoints ?? []) {
      if (!e.ok) problems.push(fail(`${e.url ?? e.address} is not reachable from this host: ${e.detail}`, { evidence, code: 'unreachable' }));
    }
    const reached = (facts.endpoints ?? []).filter((e) => e.ok).map((e) => e.address);
    return combine(problems, pass(endpoints.length || wanted ? `${[...new Set([...(wanted ? [wanted] : []), ...endpoints.map((e) => e.url)])].join(', ')} configured${reached.length ? `; reached ${reached.join(', ')}` : ''}` : 'no mirror configured: images come from their public registries', { evidence }));
  },
};
