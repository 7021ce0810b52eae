#!/bin/sh
# kubecheck node collector: prints every fact the host checks need as marked sections; reads only.
# It runs on every host of a fleet, so it stays cheap (each program started costs a host ~1-5 ms): files
# are read with shell builtins, /proc/net/route too, and only date, ip, ss, df and getent are always
# started (grep for the runtime's and kubelet's configs and the kernel's, gzip for a compressed one, curl only
# when a kubelet runs, awk/systemctl only when needed).
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
# modules: loaded (a loadable module has initstate) or built into the kernel.
# modules: loaded ones by name, built-in ones as "NAME builtin" (a built-in module without parameters has no
# /sys/module entry: modules.builtin says so, and br_netfilter's /proc/sys/net/bridge shows it is there).
# The modules not under /sys/module are looked for in modules.builtin in one grep (its lines: kernel/…/NAME.ko).
modules() {
  r=; read r < /proc/sys/kernel/osrelease 2>/dev/null; b=/lib/modules/$r/modules.builtin; set --
  for m in br_netfilter overlay ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack; do
    if [ -d /sys/module/$m ]; then [ -e /sys/module/$m/initstate ] && echo $m || echo "$m builtin"
    elif [ $m = br_netfilter ] && [ -d /proc/sys/net/bridge ]; then echo "$m builtin"
    else set -- "$@" "$m"; fi
  done
  if [ $# -gt 0 ] && [ -r "$b" ]; then p=$1; shift; for m in "$@"; do p="$p|$m"; done; grep -E "/($p)\.ko\$" "$b"; fi
  return 0
}
KUBELET=
procs() {
  for p in /proc/[0-9]*; do
    c=; read c < "$p/comm" 2>/dev/null || continue
    case "$c" in kubelet|k3s|k3s-server|k3s-agent) KUBELET=1; echo "${p#/proc/} $c";;
      containerd|crio|dockerd|cri-dockerd|kube-apiserver|etcd|kube-controller|kube-scheduler|kube-proxy|flanneld|firewalld|chronyd|ntpd|systemd-timesyn|openntpd|timesyncd) echo "${p#/proc/} $c";; esac
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
  for b in containerd crio dockerd cri-dockerd; do command -v $b >/dev/null 2>&1 && { printf 'installed %s ' $b; command -v $b; }; done
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
# --- what kubeadm's preflight and the install guides look at besides ---
# binaries: each tool's path in PATH, or - (command -v is a builtin: no fork per tool).
binaries() { for b in $KC_BINARIES; do printf '%s ' "$b"; command -v "$b" 2>/dev/null || echo -; done; }
# versions: the kubelet's and kubeadm's, before install (when no kubelet runs): their binaries are run.
versions() {
  [ -z "$KUBELET" ] || return 0
  command -v kubelet >/dev/null 2>&1 && echo "kubelet $(timeout 5 kubelet --version 2>&1 | head -n 1)"
  command -v kubeadm >/dev/null 2>&1 && echo "kubeadm $(timeout 5 kubeadm version -o short 2>&1 | head -n 1)"
  return 0
}
# resolve: what the hostname resolves to through NSS (/etc/hosts, DNS), as the kubelet and kubeadm look it up.
resolve() { h=; read h < /proc/sys/kernel/hostname; need getent || return 127; timeout 3 getent ahosts "$h"; }
# route: the default routes (the interface kubeadm, the kubelet and flannel pick an address from), read where
# the kubelet's ChooseHostInterface reads them: /proc/net/route and /proc/net/ipv6_route (default routes only).
route() {
  [ -r /proc/net/route ] || { show /proc/net/route; return 1; }
  echo "== /proc/net/route"
  while read -r i d g f x; do [ "$d" = 00000000 ] && echo "$i $d $g $f $x"; done < /proc/net/route
  [ -r /proc/net/ipv6_route ] || return 0
  echo "== /proc/net/ipv6_route"
  while read -r d l x; do [ "$d$l" = 0000000000000000000000000000000000 ] && echo "$d $l $x"; done < /proc/net/ipv6_route
  return 0
}
# proxyenv: proxy settings this session has, /etc/environment's, the runtime's and kubelet's unit drop-ins;
# credentials in proxy URLs are masked here, on the host.
# mask TEXT: sets $m to TEXT with every URL's user:password (between :// and @) replaced by ***.
mask() {
  m=; r=$1
  while :; do
    case "$r" in *://*) ;; *) m=$m$r; return 0;; esac
    m=$m${r%%://*}://; r=${r#*://}; u=${r%%[/@[:space:]\"]*}
    case "${r#"$u"}" in @*) m="$m***@"; r=${r#"$u"@};; esac
  done
}
proxyenv() {
  for v in HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do eval "x=\${$v-}"; [ -n "$x" ] && mask "$x" && echo "env $v=$m"; done
  for f in /etc/environment /etc/systemd/system/containerd.service.d/*.conf /etc/systemd/system/docker.service.d/*.conf /etc/systemd/system/kubelet.service.d/*.conf /etc/systemd/system/crio.service.d/*.conf; do
    [ -r "$f" ] || continue
    while IFS= read -r l || [ -n "$l" ]; do case "$l" in *[Pp][Rr][Oo][Xx][Yy]*=*) mask "$l"; printf '%s:%s\n' "$f" "$m";; esac; done < "$f"
  done
  return 0
}
# leftovers: what an earlier install leaves behind (files, non-empty state folders, links, KUBE-* chains before install).
leftovers() {
  for f in $KC_LEFTOVER_FILES; do [ -e "$f" ] && echo "file $f"; done
  for d in $KC_LEFTOVER_DIRS; do for e in "$d"/* "$d"/.[!.]*; do [ -e "$e" ] && { echo "nonempty $d"; break; }; done; done
  for l in cni0 flannel.1 kube-ipvs0 cali0 tunl0 weave; do [ -e "/sys/class/net/$l" ] && echo "link $l"; done
  # KUBE-* chains: a chain's declaration is the one word that starts with :KUBE- (counted here, no grep).
  if [ "$KC_PHASE" = pre ] && command -v iptables-save >/dev/null 2>&1; then
    n=0; set -f; for w in $(iptables-save 2>/dev/null); do case "$w" in :KUBE-*) n=$((n + 1));; esac; done; set +f; echo "kube-chains $n"
  fi
  return 0
}
# persist: what the host will have after a reboot: sysctl files, modules-load files, the SELinux config.
persist() {
  set --; for f in /etc/sysctl.d/*.conf /run/sysctl.d/*.conf /usr/local/lib/sysctl.d/*.conf /usr/lib/sysctl.d/*.conf /lib/sysctl.d/*.conf /etc/sysctl.conf; do [ -r "$f" ] && set -- "$@" "$f"; done
  for f in /etc/modules-load.d/*.conf /run/modules-load.d/*.conf /usr/local/lib/modules-load.d/*.conf /usr/lib/modules-load.d/*.conf /lib/modules-load.d/*.conf /etc/modules /etc/selinux/config; do [ -r "$f" ] && set -- "$@" "$f"; done
  # Every setting line of every file (FILE:line, as grep -H prints it); which kind a line is, its file says.
  for f in "$@"; do
    while IFS= read -r l || [ -n "$l" ]; do
      t=${l#"${l%%[![:space:]]*}"}
      case "$t" in [A-Za-z0-9_]*|-[A-Za-z0-9_]*) printf '%s:%s\n' "$f" "$l";; esac
    done < "$f"
  done
  v=; read v < /proc/sys/vm/swappiness 2>/dev/null && echo "live vm.swappiness=$v"
  return 0
}
# disk: free space under the folders the runtime, the kubelet and etcd fill (the nearest existing folder of each).
disk() {
  need df || return 127; set --
  for p in $KC_DISK_DIRS; do q=$p; while [ ! -e "$q" ]; do q=${q%/*}; [ -n "$q" ] || q=/; done; echo "path $p $q"; set -- "$@" "$q"; done
  df -Pk "$@"
}
# runtimecfg: Docker's daemon.json, the registry CA folders, containerd's registry hosts and its config's registry lines.
runtimecfg() {
  [ -e /etc/docker/daemon.json ] && { echo "==> /etc/docker/daemon.json"; show /etc/docker/daemon.json; }
  for d in /etc/docker/certs.d/*/ /etc/containerd/certs.d/*/; do [ -d "$d" ] || continue; printf '==> dir %s\n' "$d"; for f in "$d"*; do [ -e "$f" ] && echo "${f##*/}"; done; done
  for f in /etc/containerd/certs.d/*/hosts.toml; do [ -r "$f" ] && { echo "==> $f"; show "$f"; }; done
  [ -r /etc/containerd/config.toml ] && { echo "==> /etc/containerd/config.toml"; grep -E 'config_path|registry\.mirrors|registry\.configs|endpoint|insecure_skip_verify|ca_file|sandbox_image|SystemdCgroup' /etc/containerd/config.toml; }
  return 0
}
# system: what kubeadm's SystemVerification reads: /proc/cgroups, the cgroup mounts, cgroup2's controllers, the kernel config.
system() {
  show /proc/cgroups
  echo "== mounts"; while read -r dev mp type opts rest; do case "$mp" in /sys/fs/cgroup|/sys/fs/cgroup/*) echo "$dev $mp $type $opts";; esac; done < /proc/mounts
  [ -r /sys/fs/cgroup/cgroup.controllers ] && { echo "== cgroup.controllers"; show /sys/fs/cgroup/cgroup.controllers; }
  [ -d /sys/fs/cgroup/memory ] && echo "== memory dir"
  r=; read r < /proc/sys/kernel/osrelease
  for f in /proc/config.gz "/boot/config-$r" "/usr/src/linux-$r/.config" /usr/src/linux/.config "/usr/lib/modules/$r/config" "/usr/lib/ostree-boot/config-$r" "/usr/lib/kernel/config-$r" "/usr/src/linux-headers-$r/.config" "/lib/modules/$r/build/.config"; do
    [ -r "$f" ] || continue
    echo "== kernel config $f"
    case "$f" in *.gz) gzip -dc "$f" 2>/dev/null | grep -E "^CONFIG_($KC_KCONFIG)=";; *) grep -E "^CONFIG_($KC_KCONFIG)=" "$f";; esac
    return 0
  done
  echo "== kernel config none"
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
sec binaries binaries
sec versions versions
sec resolve resolve
sec route route
sec proxyenv proxyenv
sec leftovers leftovers
sec persist persist
sec disk disk
sec runtimecfg runtimecfg
sec system system
