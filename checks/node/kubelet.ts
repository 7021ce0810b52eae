import type { NodeFacts } from '../../src/core/facts.js';
import type { Finding, HostContext, NodeCheck } from '../../src/core/types.js';
import { combine, fail, pass, unreadable, warn } from '../../src/core/findings.js';
import { minimumKubeletMinor } from '../../src/profiles/kubeadm-spec.js';
import { restartCommand } from './restart.js';
import { VERSION_PARAM, targetVersion } from './target-version.js';

const INSTALL = 'install kubelet, kubeadm and kubectl from pkgs.k8s.io for the version you deploy (https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/install-kubeadm/), then: systemctl enable kubelet';

/** Before an install: the kubelet is installed, within kubeadm's version skew, and enabled at boot (kubeadm's KubeletVersion and Service-Kubelet). */
function preInstall(facts: NodeFacts, ctx: HostContext): Finding {
  if (!facts.binaries.ok) return unreadable(facts.binaries, 'the PATH lookups');
  const path = facts.binaries.value.kubelet;
  const target = targetVersion(facts, ctx);
  const unit = facts.units.kubelet;
  const evidence: Record<string, string> = {
    kubelet: path ?? 'not in PATH',
    version: facts.versions.kubelet ?? facts.versions.kubeletError ?? 'not read',
    unit: unit ? `${unit.file ?? 'no unit file'}, ${unit.enabled ? 'enabled' : 'not enabled'}` : 'no unit file',
    target: `${target.version} (${target.from})`,
  };
  if (!path) return fail(`the kubelet is not installed (not in PATH): kubeadm needs it to start the node`, { evidence, code: 'not-installed', remediation: INSTALL });
  const problems: Finding[] = [];
  const v = facts.versions.kubelet;
  if (!v) {
    problems.push(fail(`cannot get the kubelet's version (${path} --version: ${facts.versions.kubeletError ?? 'not run'})`, { evidence, code: 'version-unreadable' }));
  } else {
    const minor = Number(/^v\d+\.(\d+)/.exec(v)?.[1]);
    const oldest = minimumKubeletMinor(target.minor);
    if (minor > target.minor) {
      problems.push(fail(`kubelet ${v} is newer than the control plane ${target.version} (${target.from}): not a supported skew`, { evidence, code: 'newer-than-control-plane', remediation: INSTALL }));
    } else if (minor < oldest) {
      problems.push(fail(`kubelet ${v} is older than kubeadm ${target.version} supports (v1.${oldest} or later)`, { evidence, code: 'too-old', remediation: INSTALL }));
    }
  }
  if (!unit?.file) problems.push(warn('the kubelet has no systemd unit (kubeadm: "kubelet service does not exist")', { evidence, code: 'no-unit', remediation: INSTALL }));
  else if (!unit.enabled) problems.push(warn('the kubelet service is not enabled at boot', { evidence, code: 'not-enabled', remediation: 'systemctl enable kubelet.service' }));
  return combine(problems, pass(`kubelet ${v} installed (${path}), within kubeadm ${target.version}'s skew, enabled at boot`, { evidence }));
}

export const kubelet: NodeCheck = {
  kind: 'node',
  id: 'node.kubelet',
  title: 'The kubelet is installed, in skew and enabled (pre-install); it runs and /healthz is ok (post-install)',
  area: 'node',
  codes: {
    'not-installed': 'pre-install: no kubelet in PATH',
    'version-unreadable': 'pre-install: `kubelet --version` did not give a version',
    'too-old': 'pre-install: the kubelet is older than kubeadm supports (three minors back)',
    'newer-than-control-plane': 'pre-install: the kubelet is newer than the control plane it will join',
    'no-unit': 'pre-install: the kubelet has no systemd unit',
    'not-enabled': 'pre-install: the kubelet service is not enabled at boot',
    'not-running': 'no kubelet process on the host',
    'healthz-unreadable': 'the kubelet runs but /healthz could not be queried (no curl or wget)',
    'unhealthy': 'the kubelet runs but /healthz is not ok',
  },
  why:
    'The kubelet is what makes a machine a node: it posts node status, runs pods and renews the node lease. ' +
    'If it is down or unhealthy the node goes NotReady ("Kubelet stopped posting node status").',
  remediation: 'systemctl restart kubelet && journalctl -u kubelet -n 50 --no-pager',
  params: { type: 'object', properties: { ...VERSION_PARAM }, additionalProperties: false },
  run(facts, ctx) {
    if (ctx.phase === 'pre') return preInstall(facts, ctx);
    const proc = facts.processes.find((p) => p.comm === 'kubelet' || p.comm.startsWith('k3s'));
    const unit = facts.services.kubelet;
    const evidence: Record<string, string> = {
      process: proc ? `${proc.pid} ${proc.comm}` : 'no kubelet process',
      healthz: facts.raw.healthz ?? '',
      ...(unit ? { 'systemctl is-active kubelet': unit } : {}),
    };
    if (!proc) {
      return fail(`the kubelet is not running${unit ? ` (systemd: ${unit})` : ''}`, { evidence, remediation: restartCommand(facts, 'kubelet'), code: 'not-running' });
    }
    if (!facts.kubeletHealthz.ok) {
      return warn(`the kubelet runs (pid ${proc.pid}) but /healthz could not be queried: ${facts.kubeletHealthz.detail}`, {
        code: 'healthz-unreadable',
        evidence,
        remediation: 'install curl, or check by hand: curl -s http://127.0.0.1:10248/healthz',
      });
    }
    if (!facts.kubeletHealthz.value.ok) {
      return fail(`the kubelet runs (pid ${proc.pid}) but /healthz is not ok: ${facts.kubeletHealthz.value.detail}`, { evidence, code: 'unhealthy' });
    }
    return pass(`kubelet runs (pid ${proc.pid}), /healthz ok`, { evidence });
  },
};
