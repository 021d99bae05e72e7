#!/usr/bin/env bash
# issue-2 demo (`npm run demo`, as root): the seamless controller drives a
# Mininet network of real OVS switches.
#   1. set-up (mininet/setup.sh: does nothing when everything is there)
#   2. npm run build
#   3. start `seamless controller --listen 127.0.0.1:PORT` in the background
#   4. start a topology from topologies/ pointed at it, ping all host pairs
#   5. print a summary: switches connected, hosts, pingall, flows per switch
# Everything it started is stopped on exit, Ctrl-C included. Exit status 0
# only when every switch connected and every host pair answered.
#
# Environment (all optional):
#   SEAMLESS_DEMO_PORT        controller port (default 6653)
#   SEAMLESS_DEMO_TOPOLOGY    topology file (default topologies/tree.py)
#   SEAMLESS_DEMO_TOPO        topology spec (default tree,depth=2,fanout=2)
#   SEAMLESS_DEMO_CONTROLLER  `seamless` (default) or `osken`: the os-ken peer
#                             (mininet/osken_normal.py), to check the testbed alone
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

port=${SEAMLESS_DEMO_PORT:-6653}
topology=${SEAMLESS_DEMO_TOPOLOGY:-topologies/tree.py}
topo=${SEAMLESS_DEMO_TOPO:-tree,depth=2,fanout=2}
which_controller=${SEAMLESS_DEMO_CONTROLLER:-seamless}
work=$(mktemp -d /tmp/seamless-demo.XXXXXX)
ctl_log=$work/controller.log
ctl_pid=

say() { printf 'demo: %s\n' "$*"; }

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$ctl_pid" ] && kill -0 "$ctl_pid" 2>/dev/null; then
    kill -TERM "$ctl_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$ctl_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$ctl_pid" 2>/dev/null || true
    wait "$ctl_pid" 2>/dev/null || true
    say "controller stopped"
  fi
  # run_topo.py stops its own network, on Ctrl-C and SIGTERM too.
  if [ "$status" -eq 0 ]; then
    rm -rf "$work"
  elif [ -s "$ctl_log" ]; then
    say "controller log (last 20 lines of $ctl_log; logs kept in $work):"
    tail -n 20 "$ctl_log" | sed 's/^/  /'
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: must run as root (Mininet, OVS): sudo npm run demo" >&2
  exit 1
fi

say "1/4 set-up"
bash mininet/setup.sh | sed 's/^/  /'

if [ "$which_controller" = seamless ]; then
  say "2/4 build"
  if ! npm run --silent build >"$work/build.log" 2>&1; then
    tail -n 30 "$work/build.log" >&2
    say "build failed"
    exit 1
  fi
else
  say "2/4 build skipped (the os-ken peer needs none)"
fi

if ss -Hltn "sport = :$port" | grep -q .; then
  say "something already listens on port $port; stop it or set SEAMLESS_DEMO_PORT"
  exit 1
fi

say "3/4 controller ($which_controller) on 127.0.0.1:$port, log $ctl_log"
case "$which_controller" in
  seamless) node dist/controller/cli/main.js controller --listen "127.0.0.1:$port" >"$ctl_log" 2>&1 & ;;
  osken) osken-manager mininet/osken_normal.py --ofp-listen-host 127.0.0.1 --ofp-tcp-listen-port "$port" >"$ctl_log" 2>&1 & ;;
  *) say "SEAMLESS_DEMO_CONTROLLER must be seamless or osken, not '$which_controller'"; exit 2 ;;
esac
ctl_pid=$!
# Bounded wait (15 s) for the controller to listen, or to die trying.
for i in $(seq 1 150); do
  if ! kill -0 "$ctl_pid" 2>/dev/null; then
    wait "$ctl_pid" && rc=0 || rc=$?
    ctl_pid=
    say "controller exited with status $rc before listening"
    exit 1
  fi
  ss -Hltn "sport = :$port" | grep -q . && break
  if [ "$i" -eq 150 ]; then say "controller did not listen on port $port within 15 s"; exit 1; fi
  sleep 0.1
done

say "4/4 Mininet: $topology $topo, switches OVS userspace datapath, OpenFlow 1.3"
set +e
/usr/bin/python3 mininet/run_topo.py --topology "$topology" --topo "$topo" \
  --controller-port "$port" --format text >"$work/summary.txt" 2>"$work/mininet.log"
rc=$?
set -e

echo
echo "==== summary: $topology $topo, controller $which_controller 127.0.0.1:$port"
if [ -s "$work/summary.txt" ]; then
  cat "$work/summary.txt"
else
  say "Mininet produced no report (status $rc); its log:"
  tail -n 30 "$work/mininet.log"
fi
case $rc in
  0) echo "==== RESULT: PASS (all switches connected, every host pair answered)" ;;
  2) echo "==== RESULT: FAIL (see unconnected switches / failed pairs above)" ;;
  *) echo "==== RESULT: FAIL (Mininet exited $rc)" ;;
esac
exit "$rc"
