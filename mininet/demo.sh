#!/usr/bin/env bash
# `npm run demo` (as root): the whole seamless story on the SEaMLESS testbed.
#   1. set-up (mininet/setup.sh: does nothing when everything is there)
#   2. build (npm run build) and the tiny guest (mininet/guest/build.sh, cached)
#   3. L2 fabric: a Mininet tree(2,2) through our controller, every host pair pings
#      (the issue-2 demo; SEAMLESS_DEMO_PINGALL=0 skips it)
#   4. controller with the testbed inventory (topologies/testbed.yaml, idle
#      timeouts shortened for the demo) + the Mininet testbed: client h1, monitor,
#      sink, vm1 (parks by pausing) and vm2 (parks by saving to disk) on s1
#   5. both VMs active (qemu memory shown); they go idle and are parked: vm2's
#      memory is released (its qemu process ends), vm1's is kept (paused)
#   6. `curl` from h1 wakes vm2 and gets its page; the wake's timeline from the
#      controller's log; then the same for vm1
# Everything it started is stopped on exit, Ctrl-C included. Exit status 0 only
# when every step worked.
#
# Environment (all optional):
#   SEAMLESS_DEMO_PORT        controller port (default 6653)
#   SEAMLESS_DEMO_PINGALL     1 (default) run step 3, 0 skip it
#   SEAMLESS_DEMO_IDLE        idle timeout of the VMs in the demo (default 8s)
#   SEAMLESS_DEMO_MIN_ACTIVE  minActive of the VMs (default 40s): no VM is parked before
#                             it has been up this long, which must cover its boot (a VM
#                             with no traffic yet would otherwise be paused mid-boot)
#   SEAMLESS_DEMO_CONTROLLER  `seamless` (default) or `osken`: only step 3, with the
#                             os-ken peer (mininet/osken_normal.py), to check the testbed alone
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

port=${SEAMLESS_DEMO_PORT:-6653}
metrics_port=${SEAMLESS_DEMO_METRICS_PORT:-9464}
# The run's report (HTML, SVG plots) is written here and kept after the demo.
report_dir=${SEAMLESS_DEMO_REPORT:-$repo/demo-report}
pingall=${SEAMLESS_DEMO_PINGALL:-1}
idle=${SEAMLESS_DEMO_IDLE:-8s}
min_active=${SEAMLESS_DEMO_MIN_ACTIVE:-40s}
which_controller=${SEAMLESS_DEMO_CONTROLLER:-seamless}
guest_dir=${SEAMLESS_GUEST_DIR:-/var/tmp/seamless-guest}
work=$(mktemp -d /tmp/seamless-demo.XXXXXX)
ctl_log=$work/controller.log
api=$work/api.sock
ctl_pid=
tb_pid=
t_start=$SECONDS

# say, step, seamless, stop_pid, wait_listen, port_free, start_holder, jget, vm_state
# shellcheck source=mininet/demo-lib.sh
. "$repo/mininet/demo-lib.sh"

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # The testbed first (it destroys the VMs and Mininet), then the controller.
  if [ -n "$tb_pid" ]; then exec 8>&- 2>/dev/null || true; stop_pid "$tb_pid" "testbed (VMs, Mininet)"; fi
  stop_pid "$ctl_pid" controller
  if [ "$status" -eq 0 ]; then
    rm -rf "$work"
  else
    if [ -s "$ctl_log" ]; then
      say "controller log (last 20 lines of $ctl_log):"
      tail -n 20 "$ctl_log" | sed 's/^/  /'
    fi
    say "logs kept in $work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: must run as root (Mininet, OVS, libvirt): sudo npm run demo" >&2
  exit 1
fi

step "1 set-up"
bash mininet/setup.sh | sed 's/^/  /'

step "2 build"
if [ "$which_controller" = seamless ]; then
  if ! npm run --silent build >"$work/build.log" 2>&1; then
    tail -n 30 "$work/build.log" >&2
    say "build failed"
    exit 1
  fi
  say "controller built"
fi
bash mininet/guest/build.sh "$guest_dir" | sed 's/^/  /'
say "guest kernel + initramfs ready in $guest_dir"

# ---- 3: the L2 fabric alone (the issue-2 demo) --------------------------------
if [ "$pingall" = 1 ] || [ "$which_controller" = osken ]; then
  step "3 L2 fabric: Mininet tree(2,2), controller $which_controller, ping every host pair"
  port_free
  case "$which_controller" in
    seamless) node dist/controller/cli/main.js controller --listen "127.0.0.1:$port" --api "$work/api-l2.sock" >"$work/l2.log" 2>&1 & ;;
    osken) osken-manager mininet/osken_normal.py --ofp-listen-host 127.0.0.1 --ofp-tcp-listen-port "$port" >"$work/l2.log" 2>&1 & ;;
    *) say "SEAMLESS_DEMO_CONTROLLER must be seamless or osken, not '$which_controller'"; exit 2 ;;
  esac
  ctl_pid=$!
  ctl_log=$work/l2.log
  wait_listen "$ctl_pid"
  set +e
  /usr/bin/python3 mininet/run_topo.py --topology topologies/tree.py --topo tree,depth=2,fanout=2 \
    --controller-port "$port" --format text >"$work/summary.txt" 2>"$work/mininet.log"
  rc=$?
  set -e
  # The summary without its per-flow lines (kept in $work/summary.txt).
  grep -v 'cookie=' "$work/summary.txt" | sed 's/^/  /' || true
  stop_pid "$ctl_pid" "L2 controller"
  ctl_pid=
  if [ "$rc" -ne 0 ]; then
    [ -s "$work/summary.txt" ] || tail -n 30 "$work/mininet.log"
    say "FAIL: pingall (Mininet exited $rc)"
    exit 1
  fi
  say "PASS: all switches connected, every host pair answered"
  if [ "$which_controller" = osken ]; then exit 0; fi
fi

# ---- 4: controller with the testbed inventory + the testbed ---------------------
step "4 testbed: controller with topologies/testbed.yaml (idle timeout $idle, minActive $min_active for the demo), Mininet s1 + h1, mon, sink1 + vm1, vm2"
inv=$work/testbed.yaml
# Same inventory, shorter clocks: parked after $idle without traffic, but not
# before $min_active after the controller started (the VMs boot meanwhile:
# without traffic yet, a booting VM would look idle).
sed -e "s/^\(  idleTimeout:\).*/\1 $idle/" -e "s/^\(  minActive:\).*/\1 $min_active/" topologies/testbed.yaml >"$inv"
grep -E '^  (idleTimeout|minActive):' "$inv" | sed 's/^ */  /'
port_free
ctl_log=$work/controller.log
# Started directly (not through a shell function) so $! is the controller itself.
if ss -Hltn "sport = :$metrics_port" | grep -q .; then
  say "something already listens on port $metrics_port; stop it or set SEAMLESS_DEMO_METRICS_PORT"
  exit 1
fi
node dist/controller/cli/main.js controller --listen "127.0.0.1:$port" --config "$inv" --api "$api" --metrics "127.0.0.1:$metrics_port" --log-level debug >"$ctl_log" 2>&1 &
ctl_pid=$!
wait_listen "$ctl_pid"
say "controller listening on 127.0.0.1:$port, API $api, metrics http://127.0.0.1:$metrics_port/metrics"

# The testbed holder keeps Mininet and the VMs up while fd 8 (its stdin) is open.
start_holder "$inv"
h1_pid=$(jget hosts.h1.pid)
vm1_ip=$(jget vms.vm1.ip)
vm2_ip=$(jget vms.vm2.ip)
say "testbed up: waited $(jget seconds.lock) s for the machine's Mininet lock (other runs), VMs booted in $(jget seconds.vms) s; h1 is pid $h1_pid"

# ---- 5: active, then idle and parked ------------------------------------------------
qemu_rss() { # domain -> "N MiB" of its qemu process, or "no process"
  local pidf=/run/libvirt/qemu/$1.pid pid
  if [ -s "$pidf" ] && pid=$(cat "$pidf") && [ -r "/proc/$pid/status" ]; then
    awk '/^VmRSS:/ {printf "%d MiB", $2/1024}' "/proc/$pid/status"
  else
    echo "no qemu process"
  fi
}

step "5 VMs active, then idle -> parked"
deadline=$((SECONDS + 20))
while [ "$(vm_state vm1 port)" = null ] || [ "$(vm_state vm2 port)" = null ]; do
  [ $SECONDS -ge $deadline ] && { say "FAIL: the controller does not see the VMs' ports"; exit 1; }
  sleep 0.1
done
for vm in vm1 vm2; do
  ip=$( [ $vm = vm1 ] && echo "$vm1_ip" || echo "$vm2_ip")
  say "h1\$ curl http://$ip/  ->  \"$(in_h1 curl -sS -m 10 "http://$ip/")\""
done
seamless vm list --socket "$api" | sed 's/^/  /'
rss1_before=$(qemu_rss seamless-vm1)
rss2_before=$(qemu_rss seamless-vm2)
say "qemu memory: vm1 (pause) $rss1_before, vm2 (save) $rss2_before"
say "no traffic now; waiting for both VMs to be parked (idle $idle, and up at least $min_active)..."
t0=$SECONDS
deadline=$((SECONDS + 90))
until [ "$(vm_state vm1 state)" = parked ] && [ "$(vm_state vm2 state)" = parked ]; do
  [ $SECONDS -ge $deadline ] && { say "FAIL: VMs not parked within 90 s"; seamless vm list --socket "$api"; exit 1; }
  sleep 0.2
done
say "both parked after $((SECONDS - t0)) s"
seamless vm list --socket "$api" | sed 's/^/  /'
virsh -q -c qemu:///system list --all | sed 's/^/  libvirt: /'
save_file=/var/lib/libvirt/qemu/save/seamless-vm2.save
save_size=$( [ -f "$save_file" ] && du -m "$save_file" | cut -f1 || echo '?')
say "vm2 (save):  qemu $rss2_before before -> $(qemu_rss seamless-vm2) now: memory released, state in a ${save_size} MiB managed-save image on disk"
say "vm1 (pause): qemu $rss1_before before -> $(qemu_rss seamless-vm1) now: vCPUs stopped, memory kept (fast wake, no memory saved)"
mib() { awk '{printf "%.0f MiB", $1/1048576}'; }
released1=$(vm_state vm1 memoryReleasedBytes | mib)
released2=$(vm_state vm2 memoryReleasedBytes | mib)
say "memory released as seamless measured it (QEMU RSS before the park minus after): vm1 $released1, vm2 $released2"

# ---- 6: a client request wakes a VM ---------------------------------------------
step "6 a client request wakes vm2 (parked by saving to disk)"
wake_demo vm2 "$vm2_ip"
say "vm2 qemu memory now: $(qemu_rss seamless-vm2)"

step "6b the same for vm1 (parked by pausing)"
wake_demo vm1 "$vm1_ip"

# ---- 7: what parking was worth -------------------------------------------------
step "7 what parking was worth (memory measured, energy from the power profile: docs/energy.md)"
seamless vm list --socket "$api" | sed 's/^/  /'
metrics_url=http://127.0.0.1:$metrics_port/metrics
say "Prometheus metrics: $metrics_url (for example:)"
curl -s "$metrics_url" | grep -E '^seamless_(parks_total|wakes_total|memory_released_bytes|energy_saved_joules|parks_unprofitable_total)\{' | sed 's/^/  /'
say "memory released while parked: vm2 (save) $released2, vm1 (pause) $released1"
say "energy saved so far: vm1 $(vm_state vm1 energySavedJoules | awk '{printf "%.1f J", $1}'), vm2 $(vm_state vm2 energySavedJoules | awk '{printf "%.1f J", $1}') (negative: the idle period was shorter than the depth's break-even time); parks that did not pay off: vm1 $(vm_state vm1 unprofitableParks), vm2 $(vm_state vm2 unprofitableParks)"
say "Grafana dashboards for these metrics: $(ls dashboards/*.json | tr '\n' ' ')(provisioning: dashboards/README.md)"
rm -rf "$report_dir"
if seamless report --from "$ctl_log" --config "$inv" --out "$report_dir" >"$work/report.out" 2>&1; then
  say "report of this run (state timelines, wake latency CDF, memory released, energy saved): $report_dir/index.html"
else
  sed 's/^/  /' "$work/report.out"
  say "FAIL: the run report could not be written"
  exit 1
fi

step "RESULT: PASS ($((SECONDS - t_start)) s): VMs parked when idle (vm2's memory released), woken by a client's first packet, page served"
