# doctor only: the kubelet's recent log lines (journald when present, else its log file). k3s keeps the
# kubelet's lines in the k3s (server) or k3s-agent unit's journal.
kubeletlog() {
  if [ -d /run/systemd/system ] && command -v journalctl >/dev/null 2>&1; then
    for u in $KC_KUBELET_UNITS; do
      [ "$(systemctl is-active "$u" 2>/dev/null)" = active ] || [ "$(systemctl is-enabled "$u" 2>/dev/null)" = enabled ] || continue
      echo "unit $u"; journalctl -u "$u" -n 200 --no-pager -o cat 2>&1; return 0
    done
  fi
  for f in $KC_KUBELET_LOGS; do [ -r "$f" ] && { echo "file $f"; tail -n 200 "$f"; return 0; }; done
  echo "no kubelet log: not systemd and none of $KC_KUBELET_LOGS"; return 1
}
sec kubeletlog kubeletlog
