# Helpers shared by the demos (mininet/demo.sh, mininet/demo-fabric.sh); sourced,
# not run. They use the caller's globals: port (the controller's OpenFlow port),
# work (the run's scratch directory), api (the control API socket), tb_pid,
# h1_pid (the client's Mininet host), ctl_log (the controller's JSON log).

say() { printf 'demo: %s\n' "$*"; }
step() { printf '\n==== %s\n' "$*"; }
seamless() { node dist/controller/cli/main.js "$@"; }

stop_pid() { # pid name
  local pid=$1
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    say "$2 stopped"
  fi
}

wait_listen() { # pid
  for i in $(seq 1 150); do
    if ! kill -0 "$1" 2>/dev/null; then
      say "controller exited before listening"
      return 1
    fi
    ss -Hltn "sport = :$port" | grep -q . && return 0
    sleep 0.1
  done
  say "controller did not listen on port $port within 15 s"
  return 1
}

port_free() {
  if ss -Hltn "sport = :$port" | grep -q .; then
    say "something already listens on port $port; stop it or set SEAMLESS_DEMO_PORT"
    exit 1
  fi
}

# start_holder INVENTORY [holdTestbed options...]: the testbed holder
# (bench/wake/holdTestbed.ts) keeps Mininet and the VMs up while fd 8 (its stdin)
# is open; lines written to fd 8 are its commands (answers in $work/testbed.out).
# Sets tb_pid and tb_json (its TESTBED line) once it is up; exits 1 if it fails.
start_holder() {
  local inv=$1
  shift
  mkfifo "$work/tb.in"
  node dist/bench/wake/holdTestbed.js "$inv" "$port" "$@" <"$work/tb.in" >"$work/testbed.out" 2>"$work/testbed.log" &
  tb_pid=$!
  exec 8>"$work/tb.in"
  for i in $(seq 1 1800); do
    grep -q '^TESTBED ' "$work/testbed.out" && break
    if ! kill -0 "$tb_pid" 2>/dev/null; then
      tail -n 30 "$work/testbed.log"
      say "FAIL: the testbed did not come up"
      exit 1
    fi
    [ "$i" -eq 1800 ] && { say "FAIL: testbed not up within 180 s"; exit 1; }
    sleep 0.1
  done
  tb_json=$(sed -n 's/^TESTBED //p' "$work/testbed.out")
}

# jget a.b.c: one field of the holder's TESTBED line.
jget() { node -e 'const o=JSON.parse(process.argv[1]); let v=o; for (const k of process.argv[2].split(".")) v=v[k]; process.stdout.write(String(v));' "$tb_json" "$1"; }

# One field of a VM from the control API (GET /v1/vms/NAME; docs/operations.md).
vm_state() { curl -s --unix-socket "$api" "http://seamless/v1/vms/$1" | sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p"; }

# A command inside the client h1 (Mininet host: its network namespace).
in_h1() { mnexec -a "$h1_pid" "$@"; }

# wake_demo VM IP: curl from h1 wakes the VM; prints its page and the wake's
# timeline (the controller's log merged with curl's own connect/page times).
wake_demo() { # vm ip
  local vm=$1 ip=$2 t_curl out body
  set +e
  # The start time is taken inside h1 right before curl replaces the shell, so
  # curl's own connect/total times line up with the controller's log stamps.
  out=$(in_h1 sh -c 'date +%s%3N; exec curl -sS -m 15 -w "\n%{time_connect} %{time_total}" "$0"' "http://$ip/" 2>&1)
  local rc=$?
  set -e
  t_curl=$(printf '%s\n' "$out" | head -n 1)
  out=$(printf '%s\n' "$out" | tail -n +2)
  body=$(printf '%s' "$out" | head -n -1)
  read -r tc tt < <(printf '%s\n' "$out" | tail -n 1) || true
  if [ "$rc" -ne 0 ] || [ "$body" != "hello from $vm" ]; then
    say "FAIL: curl http://$ip/ from h1: exit $rc, got: $out"
    return 1
  fi
  say "h1\$ curl http://$ip/  ->  \"$body\""
  sleep 0.3 # the engine's ACTIVE transition follows the held packets by a barrier round trip
  echo "  timeline of the wake (ms after curl started, ±2 ms; controller log + curl's own times):"
  # The controller's JSON log lines for this VM since curl started, merged with
  # curl's connect/page times, in time order.
  node -e '
    const [t0, vm, file, tc, tt] = [Number(process.argv[1]), process.argv[2], process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
    const rows = [[tc * 1000, "h1: TCP connected (SYN-ACK received)"], [tt * 1000, "h1: curl has the page"]];
    for (const l of require("fs").readFileSync(file, "utf8").split("\n")) {
      let r; try { r = JSON.parse(l); } catch { continue; }
      const t = Date.parse(r.time) - t0;
      if (!(t >= 0) || r.vm !== vm) continue;
      if (r.msg === "vm transition") rows.push([t, `controller: ${r.from} -> ${r.to} (${r.reason}${r.durationMs !== undefined ? `, engine-measured wake ${Math.round(r.durationMs)} ms` : ""})`]);
      // The wake op logs what libvirt did (woke); only park ops carry a depth.
      else if (r.msg === "libvirt op done" && r.op === "wake") rows.push([t, `controller: libvirt ${{ resumed: "resume", restored: "start from managed save", booted: "cold start", running: "(already running)" }[r.woke] ?? "wake"} returned (took ${Math.round(r.ms)} ms)`]);
      else if (/^tap .* is port/.test(r.msg)) rows.push([t, `controller: ${r.msg} (PORT_STATUS: the restored VM is on the switch again)`]);
    }
    rows.sort((a, b) => a[0] - b[0]);
    for (const [t, what] of rows) console.log(`    ${String(Math.round(t)).padStart(6)} ms  ${what}`);
  ' "$t_curl" "$vm" "$ctl_log" "$tc" "$tt"
  say "$vm is now $(vm_state "$vm" state) (control API: lastWakeMs $(vm_state "$vm" lastWakeMs | cut -d. -f1))"
}
