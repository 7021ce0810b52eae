# doctor only: the kubelet's recent log lines (journald when present, else its log file).
kubeletlog() {
  if [ -d /run/systemd/system ] && command -v journalctl >/dev/null 2>&1; then journalctl -u kubelet -n 200 --no-pager -o cat 2>&1; return 0; fi
  for f in /var/log/kubelet.log /var/log/kubelet/kubelet.log /var/log/kubernetes/kubelet.log; do [ -r "$f" ] && { tail -n 200 "$f"; return 0; }; done
  echo "no kubelet log: not systemd and no /var/log/kubelet.log"; return 1
}
sec kubeletlog kubeletlog
