#!/bin/sh
# kubecheck node collector: prints every fact the host checks need as marked sections; reads only.
# Private keys never leave the host: certificate files are filtered to their CERTIFICATE blocks here.
export LC_ALL=C PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin"
sec() { n=$1; shift; printf '@@kc:%s\n' "$n"; "$@" 2>&1; printf '\n@@kc:rc=%s\n' "$?"; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "$1: command not found"; return 127; }; }
clock() { date +%s.%N; }
meta() {
  h=; read h < /proc/sys/kernel/hostname 2>/dev/null || h=$(hostname 2>/dev/null)
  echo "hostname=$h"; echo "kernel=$(uname -r)"; echo "uid=$(id -u 2>/dev/null)"
  if [ -d /run/systemd/system ]; then echo init=systemd; else echo init=other; fi
  if [ -r /etc/os-release ]; then . /etc/os-release 2>/dev/null; echo "os=$PRETTY_NAME"; fi
  echo "cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null)"
  while read k v u; do [ "$k" = MemTotal: ] && echo "memkib=$v"; done < /proc/meminfo
  return 0
}
fstab() { cat /etc/fstab; }
swaps() { cat /proc/swaps; }
uuid() { cat /sys/class/dmi/id/product_uuid; }
ipaddr() { need ip || return 127; ip -j addr show; }
sysnet() { for d in /sys/class/net/*; do [ -e "$d" ] || continue; a=; read a < "$d/address" 2>/dev/null; printf '%s %s\n' "${d##*/}" "${a:--}"; done; }
listen() { need ss || return 127; ss -Htulnp 2>/dev/null || ss -tulnp; }
listenproc() { for f in tcp tcp6 udp udp6; do [ -r /proc/net/$f ] && { echo "== $f"; cat /proc/net/$f; }; done; return 0; }
sysctls() {
  for k in net/ipv4/ip_forward net/bridge/bridge-nf-call-iptables net/bridge/bridge-nf-call-ip6tables net/ipv6/conf/all/forwarding; do
    if [ -r /proc/sys/$k ]; then v=; read v < /proc/sys/$k; echo "$k=$v"; else echo "$k=<missing>"; fi
  done
}
modules() { for m in br_netfilter overlay; do [ -d /sys/module/$m ] && echo $m; done; return 0; }
procs() {
  for p in /proc/[0-9]*; do
    c=; read c < "$p/comm" 2>/dev/null || continue
    case "$c" in kubelet|containerd|crio|dockerd|cri-dockerd|kube-apiserver|etcd|kube-controller|kube-scheduler|kube-proxy|flanneld|firewalld|k3s|k3s-server|k3s-agent) echo "${p#/proc/} $c";; esac
  done
}
services() { [ -d /run/systemd/system ] || { echo "not systemd"; return 0; }; for u in kubelet containerd crio docker firewalld; do echo "$u $(systemctl is-active $u 2>/dev/null)"; done; }
crisock() {
  for s in /run/containerd/containerd.sock /run/crio/crio.sock /var/run/crio/crio.sock /run/cri-dockerd.sock /var/run/cri-dockerd.sock /run/k3s/containerd/containerd.sock; do
    [ -S "$s" ] || continue
    echo "socket $s"
    if command -v crictl >/dev/null 2>&1; then
      if out=$(timeout 3 crictl --runtime-endpoint "unix://$s" version 2>&1); then echo "answer $s $(echo "$out" | grep RuntimeName | tr -s ' ')"; else echo "noanswer $s"; fi
    fi
  done
  command -v ss >/dev/null 2>&1 && ss -Hxl 2>/dev/null | grep -E 'containerd\.sock|crio\.sock|cri-dockerd\.sock' | sed 's/^/ss /'
  return 0
}
healthz() {
  if command -v curl >/dev/null 2>&1; then curl -s -m 3 -w '\nhttp=%{http_code}' http://127.0.0.1:10248/healthz
  elif command -v wget >/dev/null 2>&1; then wget -q -T 3 -O - http://127.0.0.1:10248/healthz && printf '\nhttp=200'
  else echo "curl: command not found"; return 127; fi
}
selinux() { if [ -r /sys/fs/selinux/enforce ]; then e=; read e < /sys/fs/selinux/enforce; echo "enforce=$e"; else echo disabled; fi; }
certs() {
  for d in /etc/kubernetes/pki /var/lib/kubelet/pki; do [ -d "$d" ] && [ ! -r "$d" ] && printf '==> %s\npermission denied\n' "$d"; done
  for f in /etc/kubernetes/pki/*.crt /etc/kubernetes/pki/etcd/*.crt /var/lib/kubelet/pki/kubelet-client-current.pem /var/lib/kubelet/pki/kubelet.crt; do
    [ -e "$f" ] || continue
    printf '==> %s\n' "$f"
    if [ -r "$f" ]; then sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' "$f"; else echo "permission denied"; fi
  done
  return 0
}
cnibin() { [ -d /opt/cni/bin ] || { echo "/opt/cni/bin: No such file or directory"; return 1; }; for f in /opt/cni/bin/*; do [ -e "$f" ] || continue; if [ -x "$f" ]; then echo "x ${f##*/}"; else echo "- ${f##*/}"; fi; done; }
cninet() { [ -d /etc/cni/net.d ] || { echo "/etc/cni/net.d: No such file or directory"; return 1; }; for f in /etc/cni/net.d/*; do [ -f "$f" ] || continue; printf '==> %s\n' "${f##*/}"; head -c 65536 "$f"; echo; done; }
subnetenv() { cat /run/flannel/subnet.env; }
cgroups() {
  [ -r /var/lib/kubelet/config.yaml ] && grep -E '^cgroupDriver:' /var/lib/kubelet/config.yaml | sed 's/^/kubelet /'
  [ -r /etc/containerd/config.toml ] && grep -E '^[[:space:]]*SystemdCgroup[[:space:]]*=' /etc/containerd/config.toml | sed 's/^/containerd /'
  return 0
}
sec clock clock
sec meta meta
sec swaps swaps
sec fstab fstab
sec uuid uuid
sec ipaddr ipaddr
sec sysnet sysnet
if command -v ss >/dev/null 2>&1; then sec listen listen; else sec listen listen; sec listenproc listenproc; fi
sec sysctls sysctls
sec modules modules
sec procs procs
sec services services
sec crisock crisock
sec healthz healthz
sec selinux selinux
sec certs certs
sec cnibin cnibin
sec cninet cninet
sec subnetenv subnetenv
sec cgroups cgroups
