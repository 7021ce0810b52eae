// What the install guides put on a host before `kubeadm init/join`, laid out in a test host's own folders:
// the kubelet/kubeadm binaries in /usr/local/bin, the packages' systemd units (enabled), containerd's
// config, and the settings files (sysctl.d, modules-load.d). Shared by the real cluster's nodes and the
// pre-install host tests, so both meet the same layout.
import { copyFileSync, linkSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A hard link (or a copy across filesystems) of `from` at `to`. */
export function place(from: string, to: string): void {
  rmSync(to, { force: true });
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

const UNITS: Record<string, string> = {
  kubelet: '[Unit]\nDescription=kubelet: The Kubernetes Node Agent\nWants=network-online.target\nAfter=network-online.target\n\n[Service]\nExecStart=/usr/local/bin/kubelet\nRestart=always\nStartLimitInterval=0\nRestartSec=10\n\n[Install]\nWantedBy=multi-user.target\n',
  containerd: '[Unit]\nDescription=containerd container runtime\nAfter=network.target\n\n[Service]\nExecStart=/usr/bin/containerd\nRestart=always\nDelegate=yes\nKillMode=process\n\n[Install]\nWantedBy=multi-user.target\n',
  chrony: '[Unit]\nDescription=chrony, an NTP client/server\n\n[Service]\nType=forking\nExecStart=/usr/sbin/chronyd\n\n[Install]\nAlias=chronyd.service\nWantedBy=multi-user.target\n',
};

/** The systemd units the packages install (kubelet.service + kubeadm's 10-kubeadm.conf, containerd, chrony), enabled at boot. */
export function systemdUnits(dir: string, units: (keyof typeof UNITS)[] = ['kubelet', 'containerd']): void {
  const sd = join(dir, 'etc-systemd-system');
  mkdirSync(join(sd, 'kubelet.service.d'), { recursive: true });
  mkdirSync(join(sd, 'multi-user.target.wants'), { recursive: true });
  for (const u of units) {
    writeFileSync(join(sd, `${u}.service`), UNITS[u]);
    rmSync(join(sd, 'multi-user.target.wants', `${u}.service`), { force: true });
    symlinkSync(`/etc/systemd/system/${u}.service`, join(sd, 'multi-user.target.wants', `${u}.service`));
  }
  if (units.includes('kubelet')) {
    writeFileSync(join(sd, 'kubelet.service.d', '10-kubeadm.conf'), '[Service]\nEnvironment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"\nEnvironment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"\nEnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\nEnvironmentFile=-/etc/default/kubelet\nExecStart=\nExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS\n');
  }
}

/**
 * containerd's config (CRI v1, overlayfs, runc). `systemdCgroup`: the install guides' SystemdCgroup = true,
 * or false where the kubelet runs with cgroupfs (these machines have no systemd as PID 1).
 */
export function containerdConfig(options: { systemdCgroup: boolean; sandboxImage?: string; root?: string; state?: string }): string {
  const state = options.state ?? '/run/containerd';
  return `version = 2
root = "${options.root ?? '/var/lib/containerd'}"
state = "${state}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "${state}/containerd.sock"
[ttrpc]
  address = "${state}/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
${options.sandboxImage ? `  sandbox_image = "${options.sandboxImage}"\n` : ''}  # This machine has no CAP_SYS_RESOURCE: runc may not lower a sandbox's oom_score_adj below its own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = ${options.systemdCgroup}
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/opt/cni/bin"
    conf_dir = "/etc/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "/etc/containerd/certs.d"
`;
}

/** The install guides' settings files: forwarding and bridge netfilter in sysctl.d, overlay and br_netfilter at boot. */
export function settingsFiles(dir: string): void {
  mkdirSync(join(dir, 'etc-sysctl.d'), { recursive: true });
  mkdirSync(join(dir, 'etc-modules-load.d'), { recursive: true });
  writeFileSync(join(dir, 'etc-sysctl.d', 'k8s.conf'), 'net.bridge.bridge-nf-call-iptables  = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\nnet.ipv4.ip_forward                 = 1\n');
  writeFileSync(join(dir, 'etc-modules-load.d', 'k8s.conf'), 'overlay\nbr_netfilter\n');
}
