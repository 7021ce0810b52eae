import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../checks/index.js';
import { judgeCluster } from '../../src/core/executors.js';
import type { ClusterCheck } from '../../src/core/types.js';
import { PROFILES, detectCni, detectClusterProfile, detectHostProfile } from '../../src/profiles/profiles.js';
import { factsFrom } from '../helpers.js';
import { RECORDED_AT, recordedSnapshot } from './cluster-snapshot.js';

const node = (kubeletVersion: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}) => ({ kubeletVersion, labels, annotations });

describe('profiles', () => {
  it('detects a host\'s install from its layout and processes', () => {
    expect(detectHostProfile(new Set(['/etc/kubernetes/manifests']), ['kubelet']).profile.name).toBe('kubeadm');
    expect(detectHostProfile(new Set(), []).profile.name).toBe('kubeadm');
    expect(detectHostProfile(new Set(['/etc/kubernetes/cert']), ['kubelet']).profile.name).toBe('binary');
    expect(detectHostProfile(new Set(['/var/lib/rancher/k3s']), []).profile.name).toBe('k3s');
    expect(detectHostProfile(new Set(), ['k3s-agent'])).toMatchObject({ profile: { name: 'k3s' }, why: 'process k3s-agent' });
    expect(detectHostProfile(new Set(['/var/lib/minikube', '/etc/kubernetes/manifests']), []).profile.name).toBe('minikube');
  });
  it('detects a host\'s CNI: flannel wherever its config is, else the first config\'s plugin', () => {
    expect(detectCni([['calico', 'portmap'], ['flannel', 'portmap']])).toBe('flannel');
    expect(detectCni([['calico', 'portmap']])).toBe('calico');
    expect(detectCni([])).toBe('none');
  });
  it('detects a cluster\'s install and CNI from its nodes and objects', () => {
    const ds = (name: string, namespace = 'kube-system') => ({ name, namespace, labels: {} });
    expect(detectClusterProfile({ nodes: [node('v1.33.13+k3s1')], daemonSets: [], staticControlPlane: false, kubeadmConfig: false })).toMatchObject({ name: 'k3s', cni: 'unknown' });
    expect(detectClusterProfile({ nodes: [node('v1.33.13+k3s1', {}, { 'flannel.alpha.coreos.com/backend-type': 'vxlan' })], daemonSets: [], staticControlPlane: false, kubeadmConfig: false })).toMatchObject({ name: 'k3s', cni: 'flannel' });
    expect(detectClusterProfile({ nodes: [node('v1.33.13', { 'minikube.k8s.io/name': 'minikube' })], daemonSets: [ds('kindnet')], staticControlPlane: true, kubeadmConfig: true })).toMatchObject({ name: 'minikube', cni: 'kindnet' });
    expect(detectClusterProfile({ nodes: [node('v1.33.13')], daemonSets: [ds('kube-proxy'), ds('kube-flannel-ds', 'kube-flannel')], staticControlPlane: true, kubeadmConfig: true })).toMatchObject({ name: 'kubeadm', cni: 'flannel' });
    expect(detectClusterProfile({ nodes: [node('v1.33.13')], daemonSets: [ds('calico-node')], staticControlPlane: false, kubeadmConfig: false })).toMatchObject({ name: 'binary', cni: 'calico' });
  });
  it('cluster checks expect DaemonSets only where the install runs them as DaemonSets', () => {
    const byId = (id: string) => CHECKS.find((c) => c.id === id) as ClusterCheck;
    for (const [name, why] of [['k3s', 'runs inside k3s'], ['binary', 'runs as a host service']] as const) {
      const s = { ...recordedSnapshot(), profile: { name, cni: 'flannel', why: 'test' } };
      for (const id of ['cluster.kube-proxy', 'cni.flannel-daemonset']) {
        const [r] = judgeCluster(byId(id), {}, s, () => RECORDED_AT);
        expect(r, `${name} ${id}`).toMatchObject({ status: 'skip', code: `${id}/not-applicable` });
        expect(r.message).toContain(why);
      }
    }
    const calico = { ...recordedSnapshot(), profile: { name: 'kubeadm', cni: 'calico', why: 'test' } };
    expect(judgeCluster(byId('cni.flannel-daemonset'), {}, calico, () => RECORDED_AT)[0]).toMatchObject({ status: 'skip', code: 'cni.flannel-daemonset/not-flannel' });
    expect(judgeCluster(byId('cluster.kube-proxy'), {}, calico, () => RECORDED_AT)[0].status).toBe('pass');
  });
  it('parses an old collector output (no profile paths) as a kubeadm host', () => {
    const f = factsFrom('cp1-post-healthy.txt');
    expect(f.profile).toMatchObject({ name: 'kubeadm', cni: 'flannel' });
    expect([f.cni.binDir, f.cni.confDir]).toEqual([PROFILES.kubeadm.cni.binDir, PROFILES.kubeadm.cni.confDir]);
  });
});
