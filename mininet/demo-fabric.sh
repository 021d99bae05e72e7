#!/usr/bin/env bash
# `npm run demo:fabric` (as root): park and wake across a leaf-spine fabric.
#   1. set-up (mininet/setup.sh, with libvirt over TLS: mininet/libvirt-tls.sh), build,
#      the tiny guest
#   2. the fabric testbed of topologies/fabric-testbed.yaml: spines s1, s2; leaves
#      s3 (hypervisor hv1: vm1), s4 (hv2: vm2), s5 (client h1, monitor, sink); every
#      leaf on both spines; hv1 and hv2 are the testbed's libvirtd over TLS
#   3. `seamless controller --fabric --config` on it; `seamless switch links`
#   4. both VMs idle -> parked (paused)
#   5. curl from h1 (two hops from s3) wakes vm1: the wake time
#   6. the spine link on h1's path is cut while vm2 is parked; curl from h1 wakes vm2
# Prints PASS and exits 0 when every step worked, or says what failed. Everything
# it started is stopped on exit, Ctrl-C included.
#
# Environment (all optional):
#   SEAMLESS_DEMO_PORT        controller port (default 6653)
#   SEAMLESS_DEMO_IDLE        idle timeout of the VMs (default 6s)
#   SEAMLESS_DEMO_MIN_ACTIVE  minActive of the VMs (default 6s)
#   SEAMLESS_DEMO_KEEP=1      keep the fabric up after the checks until Ctrl-C
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

port=${SEAMLESS_DEMO_PORT:-6653}
idle=${SEAMLESS_DEMO_IDLE:-6s}
min_active=${SEAMLESS_DEMO_MIN_ACTIVE:-6s}
keep=${SEAMLESS_DEMO_KEEP:-0}
guest_dir=${SEAMLESS_GUEST_DIR:-/var/tmp/seamless-guest}
work=$(mktemp -d /tmp/seamless-demo-fabric.XXXXXX)
ctl_log=$work/controller.log
api=$work/api.sock
ctl_pid=
tb_pid=
t_start=$SECONDS

# say, step, seamless, stop_pid, wait_listen, port_free, start_holder, jget, vm_state, in_h1, wake_demo
# shellcheck source=mininet/demo-lib.sh
. "$repo/mininet/demo-lib.sh"

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # The testbed first (it destroys the VMs and Mininet), then the controller.
  if [ -n "$tb_pid" ]; then exec 8>&- 2>/dev/null || true; stop_pid "$tb_pid" "fabric testbed (VMs, Mininet)"; fi
  stop_pid "$ctl_pid" controller
  # Ctrl-C after PASS (SEAMLESS_DEMO_KEEP=1) ends a successful run.
  if [ "$status" -eq 130 ] && [ -n "${passed:-}" ]; then status=0; fi
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
  echo "demo: must run as root (Mininet, OVS, libvirt): sudo npm run demo:fabric" >&2
  exit 1
fi

fail() { say "FAIL: $*"; exit 1; }

step "1 set-up, build, guest"
bash mininet/setup.sh | sed 's/^/  /'
if ! (exec 3<>/dev/tcp/127.0.0.1/16514) 2>/dev/null; then
  fail "libvirtd does not listen on 127.0.0.1:16514 (TLS); restart it (guests keep running): pkill -x libvirtd; bash mininet/start-libvirtd.sh"
fi
if ! npm run --silent build >"$work/build.log" 2>&1; then
  tail -n 30 "$work/build.log" >&2
  fail "build failed"
fi
bash mininet/guest/build.sh "$guest_dir" | sed 's/^/  /'
say "controller built; guest kernel + initramfs ready in $guest_dir"

# ---- 2: the fabric testbed --------------------------------------------------------
step "2 fabric testbed: topologies/fabric-testbed.yaml (idle timeout $idle, minActive $min_active for the demo)"
inv=$work/fabric-testbed.yaml
sed -e "s/^\(  idleTimeout:\).*/\1 $idle/" -e "s/^\(  minActive:\).*/\1 $min_active/" topologies/fabric-testbed.yaml >"$inv"
port_free
# The testbed first, without waiting for the controller: a controller that sees the
# guests while they boot would park them mid-boot.
start_holder "$inv" --spines s1,s2 --no-wait-connected
h1_pid=$(jget hosts.h1.pid)
vm1_ip=$(jget vms.vm1.ip)
vm2_ip=$(jget vms.vm2.ip)
n_links=$(node -e 'console.log(JSON.parse(process.argv[1]).links.length)' "$tb_json")
say "up: switches $(jget switches), $n_links switch links; vm1 $vm1_ip on $(jget vms.vm1.switch), vm2 $vm2_ip on $(jget vms.vm2.switch), h1 on $(jget hosts.h1.port) (waited $(jget seconds.lock) s for the Mininet lock, VMs booted in $(jget seconds.vms) s)"

# ---- 3: the controller -------------------------------------------------------------
step "3 seamless controller --fabric --config (hv1, hv2 over TLS)"
node dist/controller/cli/main.js controller --fabric --listen "127.0.0.1:$port" --config "$inv" --api "$api" --log-format json --log-level debug >"$ctl_log" 2>&1 &
ctl_pid=$!
wait_listen "$ctl_pid"
say "controller listening on 127.0.0.1:$port, API $api"
links_json() { seamless switch links --json --socket "$api" 2>/dev/null || echo '{"links":[]}'; }
n_found() { links_json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).links.length))'; }
deadline=$((SECONDS + 30))
until [ "$(n_found)" = "$n_links" ]; do
  [ $SECONDS -ge $deadline ] && { seamless switch links --socket "$api" | sed 's/^/  /'; fail "LLDP did not find all $n_links links within 30 s"; }
  sleep 0.2
done
say "\$ seamless switch links"
seamless switch links --socket "$api" | sed 's/^/  /'
say "\$ seamless hypervisor list"
seamless hypervisor list --socket "$api" | sed 's/^/  /'

# ---- 4: parked ---------------------------------------------------------------------
step "4 no traffic: both VMs idle -> parked"
deadline=$((SECONDS + 90))
until [ "$(vm_state vm1 state)" = parked ] && [ "$(vm_state vm2 state)" = parked ]; do
  [ $SECONDS -ge $deadline ] && { seamless vm list --socket "$api"; fail "VMs not parked within 90 s"; }
  sleep 0.2
done
seamless vm list --socket "$api" | sed 's/^/  /'
# hv1 and hv2 are the testbed's one libvirtd under two names: each VM as its own host sees it.
virsh -q -c qemu+tls://localhost/system domstate seamless-vm1 | sed 's/^/  libvirt hv1 (qemu+tls:\/\/localhost\/system): seamless-vm1 /'
virsh -q -c qemu+tls://127.0.0.1/system domstate seamless-vm2 | sed 's/^/  libvirt hv2 (qemu+tls:\/\/127.0.0.1\/system): seamless-vm2 /'

# ---- 5: wake across two hops --------------------------------------------------------
step "5 curl from h1 (leaf s5) wakes vm1 (leaf s3, two hops away)"
wake_demo vm1 "$vm1_ip"

# ---- 6: a spine link cut while vm2 is parked ------------------------------------------
step "6 the spine link on h1's path is cut while vm2 is parked; curl from h1 wakes vm2"
# h1's path: the s5 uplink on the controller's spanning tree (broadcasts, ARP and the
# first packets to a parked VM go that way).
cut=$(links_json | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const l = JSON.parse(s).links.find((l) => l.tree && [l.a.name, l.b.name].includes("s5"));
    if (l) console.log(`${l.a.name} ${l.b.name}`);
  });')
[ -n "$cut" ] || fail "no s5 uplink on the spanning tree"
[ "$(vm_state vm2 state)" = parked ] || fail "vm2 is $(vm_state vm2 state), not parked"
echo "link $cut down" >&8
deadline=$((SECONDS + 30))
until grep -q "^LINK_\(OK\|FAILED\) " "$work/testbed.out"; do
  [ $SECONDS -ge $deadline ] && fail "the testbed did not answer the link cut"
  sleep 0.1
done
grep -q '^LINK_OK ' "$work/testbed.out" || fail "$(grep '^LINK_FAILED' "$work/testbed.out")"
deadline=$((SECONDS + 15))
until [ "$(n_found)" = "$((n_links - 1))" ]; do
  [ $SECONDS -ge $deadline ] && fail "the controller still lists $(n_found) links after the cut"
  sleep 0.1
done
say "link ${cut/ /-} cut; the controller's view now:"
seamless switch links --socket "$api" | sed 's/^/  /'
say "vm2 is $(vm_state vm2 state)"
wake_demo vm2 "$vm2_ip"

passed=1
step "RESULT: PASS ($((SECONDS - t_start)) s): VMs on two leaves parked, woken from a client two hops away, also after a spine link was cut"

if [ "$keep" = 1 ]; then
  step "SEAMLESS_DEMO_KEEP=1: the fabric stays up (link ${cut/ /-} still down) until Ctrl-C"
  cat <<EOF
  a shell in h1:        mnexec -a $h1_pid bash        (then: curl http://$vm1_ip/, curl http://$vm2_ip/)
  the VMs:              node dist/controller/cli/main.js vm list --socket $api
  the links:            node dist/controller/cli/main.js switch links --socket $api
  a switch's flows:     ovs-ofctl -O OpenFlow13 dump-flows s3
  libvirt over TLS:     virsh -c qemu+tls://localhost/system list --all
  controller log:       $ctl_log
EOF
  while kill -0 "$ctl_pid" 2>/dev/null && kill -0 "$tb_pid" 2>/dev/null; do sleep 1; done
  # Ctrl-C reaches the controller and the testbed holder too (one process group) and
  # they may end before this shell's INT trap runs: the checks passed, so this is an end,
  # not a failure.
  say "the controller or the testbed stopped: ending"
fi
