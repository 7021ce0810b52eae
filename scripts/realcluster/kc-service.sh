#!/bin/sh
# kc-service: how kubecheck's test hosts run their daemons. The hosts have no systemd as PID 1, so a unit
# is a shell file in /etc/kubecheck-units that execs its daemon; `start` runs it in a loop that starts it
# again 2 s after it exits (systemd's Restart=always), `stop` ends the loop and then the daemon (TERM, KILL
# after 10 s), `restart` does both. Output is appended to /var/log/UNIT.log, where a host without
# journald keeps a daemon's log.
#   kc-service start|stop|restart|status UNIT
set -u
units=/etc/kubecheck-units
run=/run/kubecheck-units
cmd=${1:-}
unit=${2:-}
[ -n "$unit" ] || { echo "usage: kc-service start|stop|restart|status UNIT" >&2; exit 2; }
mkdir -p "$run"
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
case $cmd in
start)
  [ -f "$units/$unit" ] || { echo "kc-service: no unit $unit in $units" >&2; exit 1; }
  alive "$run/$unit.loop" && exit 0
  rm -f "$run/$unit.stopping"
  setsid sh -c '
    while :; do
      sh "$1/$2" >>"/var/log/$2.log" 2>&1 </dev/null &
      echo $! >"$3/$2.main"
      wait $!
      [ -f "$3/$2.stopping" ] && exit 0
      sleep 2
    done' kc-service "$units" "$unit" "$run" </dev/null >/dev/null 2>&1 &
  echo $! >"$run/$unit.loop"
  ;;
stop)
  touch "$run/$unit.stopping"
  alive "$run/$unit.loop" && kill "$(cat "$run/$unit.loop")" 2>/dev/null
  if alive "$run/$unit.main"; then
    main=$(cat "$run/$unit.main")
    kill -TERM "$main" 2>/dev/null
    i=0
    while kill -0 "$main" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$main" 2>/dev/null
  fi
  rm -f "$run/$unit.loop" "$run/$unit.main"
  ;;
restart)
  "$0" stop "$unit" && "$0" start "$unit"
  ;;
status)
  if alive "$run/$unit.main"; then echo active; else echo inactive; exit 3; fi
  ;;
*)
  echo "usage: kc-service start|stop|restart|status UNIT" >&2
  exit 2
  ;;
esac
