#!/bin/sh
# kubecheck node collector: prints every fact the host checks need as marked sections; reads only.
# It runs on every host of a fleet, so it stays cheap: files are read with shell builtins, and only
# date, ip and ss are always forked (curl only when a kubelet runs; awk/grep/systemctl only when needed).
# Private keys never leave the host: certificate files are filtered to their CERTIFICATE blocks here.
# The paths of every install profile (kubeadm, binary, k3s, minikube) come in the KC_* variables that
# kubecheck puts before this script (src/profiles/profiles.ts), so one run serves whichever is installed.
export LC_ALL=C PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin"
sec() { n=$1; shift; printf '@@kc:%s\n' "$n"; "$@" 2>&1; printf '\n@@kc:rc=%s\n' "$?"; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "$1: command not found"; return 127; }; }
# show FILE: print a file with builtins, or the error cat would print.
show() {
  [ -e "$1" ] || { echo "$1: No such file or directory"; return 1; }
  [ -r "$1" ] || { echo "$1: Permission denied"; return 1; }
  while IFS= read -r l || [ -n "$l" ]; do printf '%s\n' "$l"; done < "$1"
}
clock() { date +%s.%N; }
meta() {
  h=; read h < /proc/sys/kernel/hostname 2>/dev/null; echo "hostname=$h"
  k=; read k < /proc/sys/kernel/osrelease 2>/dev/null; echo "kernel=$k"
  while read a b c; do [ "$a" = Uid: ] && echo "uid=$b"; done < /proc/self/status
  if [ -d /run/systemd/system ]; then echo init=systemd; else echo init=other; fi
  if [ -r /etc/os-release ]; then . /etc/os-release 2>/dev/null; echo "os=$PRETTY_NAME"; fi
  c=; read c < /sys/devices/system/cpu/online 2>/dev/null; echo "cpuonline=$c"
  while read a b c; do [ "$a" = MemTotal: ] && echo "memkib=$b"; done < /proc/meminfo
  return 0
}
ipaddr() { need ip || return 127; ip -d -j addr show; }
sysnet() { for d in /sys/class/net/*; do [ -e "$d" ] || continue; a=; read a < "$d/address" 2>/dev/null; printf '%s %s\n' "${d##*/}" "${a:--}"; done; }
listen() { need ss || return 127; ss -Htuxlnp 2>/dev/null || ss -tuxlnp; }
listenproc() { for f in tcp tcp6 udp udp6; do [ -r /proc/net/$f ] && { echo "== $f"; show /proc/net/$f; }; done; return 0; }
sysctls() {
  for k in net/ipv4/ip_forward net/bridge/bridge-nf-call-iptables net/bridge/bridge-nf-call-ip6tables net/ipv6/conf/all/forwarding; do
    if [ -r /proc/sys/$k ]; then v=; read v < /proc/sys/$k; echo "$k=$v"; else echo "$k=<missing>"; fi
  done
}
modules() { for m in br_netfilter overlay; do [ -d /sys/module/$m ] && echo $m; done; return 0; }
KUBELET=
procs() {
  for p in /proc/[0-9]*; do
    c=; read c < "$p/comm" 2>/dev/null || continue
    case "$c" in kubelet|k3s|k3s-server|k3s-agent) KUBELET=1; echo "${p#/proc/} $c";;
      containerd|crio|dockerd|cri-dockerd|kube-apiserver|etcd|kube-controller|kube-scheduler|kube-proxy|flanneld|firewalld) echo "${p#/proc/} $c";; esac
  done
}
services() { [ -d /run/systemd/system ] || { echo "not systemd"; return 0; }; echo "units $KC_UNITS"; systemctl is-active $KC_UNITS 2>/dev/null; return 0; }
# units: each unit's file and whether it is enabled at boot, read from the files (works without systemd running).
units() {
  for u in $KC_UNITS; do
    f=-; for d in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system; do [ -e "$d/$u.service" ] && { f="$d/$u.service"; break; }; done
    e=no; for w in /etc/systemd/system/*.wants/$u.service; do [ -e "$w" ] && e=yes; done
    echo "$u $f $e"
  done
}
layout() { for m in $KC_MARKERS; do [ -e "$m" ] && echo "$m"; done; return 0; }
crisock() {
  for b in containerd crio dockerd cri-dockerd; do p=$(command -v $b 2>/dev/null) && echo "installed $b $p"; done
  for s in $KC_SOCKETS; do
    [ -S "$s" ] || continue
    echo "socket $s"
    if command -v crictl >/dev/null 2>&1; then
      if out=$(timeout 3 crictl --runtime-endpoint "unix://$s" version 2>&1); then echo "answer $s $(echo "$out" | grep RuntimeName | tr -s ' ')"; else echo "noanswer $s"; fi
    fi
  done
  return 0
}
healthz() {
  [ -n "$KUBELET" ] || { echo "no kubelet process"; return 0; }
  if command -v curl >/dev/null 2>&1; then curl -s -m 3 -w '\nhttp=%{http_code}' http://127.0.0.1:10248/healthz
  elif command -v wget >/dev/null 2>&1; then wget -q -T 3 -O - http://127.0.0.1:10248/healthz && printf '\nhttp=200'
  else echo "curl: command not found"; return 127; fi
}
selinux() { if [ -r /sys/fs/selinux/enforce ]; then e=; read e < /sys/fs/selinux/enforce; echo "enforce=$e"; else echo disabled; fi; }
certs() {
  set --
  for d in $KC_CERT_DIRS; do [ -d "$d" ] && [ ! -r "$d" ] && printf '==> %s\npermission denied\n' "$d"; done
  for f in $KC_CERTS; do
    [ -e "$f" ] || continue
    case " $* " in *" $f "*) continue;; esac
    if [ -r "$f" ]; then set -- "$@" "$f"; else printf '==> %s\npermission denied\n' "$f"; fi
  done
  [ $# -gt 0 ] || return 0
  awk 'FNR==1 { print "==> " FILENAME } /-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/' "$@"
}
# cnibin/cninet: each profile's CNI folder, `@ DIR` (or `@! DIR` when it does not exist) then its entries.
cnibin() {
  for d in $KC_CNI_BIN; do
    [ -d "$d" ] || { echo "@! $d"; continue; }; echo "@ $d"
    for f in "$d"/*; do [ -e "$f" ] || continue; if [ -x "$f" ]; then echo "x ${f##*/}"; else echo "- ${f##*/}"; fi; done
  done
}
cninet() {
  for d in $KC_CNI_CONF; do
    [ -d "$d" ] || { echo "@! $d"; continue; }; echo "@ $d"
    for f in "$d"/*; do [ -f "$f" ] || continue; printf '==> %s\n' "${f##*/}"; show "$f"; done
  done
}
subnetenv() { show /run/flannel/subnet.env; }
cgroups() {
  set --
  for f in $KC_CONFIGS; do [ -r "$f" ] && set -- "$@" "$f"; done
  [ $# -gt 0 ] || return 0
  grep -HE '^cgroupDriver:|^[[:space:]]*SystemdCgroup[[:space:]]*=' "$@"
  return 0
}
sec clock clock
sec meta meta
sec swaps show /proc/swaps
sec fstab show /etc/fstab
sec uuid show /sys/class/dmi/id/product_uuid
sec ipaddr ipaddr
sec sysnet sysnet
if command -v ss >/dev/null 2>&1; then sec listen listen; else sec listen listen; sec listenproc listenproc; fi
sec sysctls sysctls
sec modules modules
sec layout layout
sec procs procs
sec services services
sec units units
sec crisock crisock
sec healthz healthz
sec selinux selinux
sec certs certs
sec cnibin cnibin
sec cninet cninet
sec subnetenv subnetenv
sec cgroups cgroups
