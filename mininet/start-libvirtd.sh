#!/usr/bin/env bash
# Starts virtlogd and libvirtd by hand (these machines have no systemd) unless
# they already run, and waits until libvirtd answers. Used by mininet/setup.sh,
# mininet/testbed.py and the tests, so the daemon always starts the same way.
#
# libvirtd starts with transparent huge pages disabled for itself and for every
# QEMU it spawns (prctl PR_SET_THP_DISABLE is inherited across fork and exec),
# not machine-wide. Why: QEMU madvises guest RAM for huge pages, so restoring a
# saved guest allocates and zeroes a 2 MiB page for every 2 MiB region that
# holds one non-zero 4 KiB page. Measured on this testbed: the restore's stream
# step 138 -> 74 ms and save-wake p50 496 -> 447 ms, p99 606 -> 503 ms; a woken
# guest's QEMU holds 109 MB after the wake instead of 138 (59 MB image). See
# docs/decisions.md, "libvirtd without transparent huge pages".
#
# An already running libvirtd is left alone (it may hold other people's VMs);
# when it runs with huge pages on, a warning says how to restart it.
set -euo pipefail

say() { echo "start-libvirtd: $*"; }
fail() { echo "start-libvirtd: error: $*" >&2; exit 1; }

answers() { virsh -c qemu:///system version >/dev/null 2>&1; }

# Runs "$@" with PR_SET_THP_DISABLE (41) set, the way `setarch` runs with a personality.
without_thp() {
  python3 - "$@" <<'EOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(41, 1, 0, 0, 0) != 0:  # PR_SET_THP_DISABLE
    sys.exit("start-libvirtd: prctl(PR_SET_THP_DISABLE) failed: " + os.strerror(ctypes.get_errno()))
os.execvp(sys.argv[1], sys.argv[1:])
EOF
}

if ! pgrep -x virtlogd >/dev/null; then
  virtlogd -d || fail "virtlogd -d failed"
  say "virtlogd started"
fi

pid=$(pgrep -xo libvirtd || true)
if [ -n "$pid" ]; then
  if grep -q '^THP_enabled:[[:space:]]*1' "/proc/$pid/status" 2>/dev/null; then
    say "warning: libvirtd (pid $pid) runs with transparent huge pages on; save-depth wakes" \
      "are ~50-100 ms slower. Restart it with: pkill -x libvirtd; bash mininet/start-libvirtd.sh"
  fi
else
  # --listen (TLS + TCP on loopback, libvirtd.conf) once mininet/libvirt-tls.sh made the
  # certificates: without them libvirtd refuses to start with listen_tls = 1.
  listen=()
  [ -s /etc/pki/libvirt/servercert.pem ] && listen=(--listen)
  without_thp libvirtd -d "${listen[@]}" || fail "libvirtd -d ${listen[*]} failed"
  say "libvirtd started ${listen[*]} (transparent huge pages off for it and its QEMUs)"
fi

for _ in $(seq 100); do
  answers && exit 0
  sleep 0.1
done
fail "libvirtd did not answer on qemu:///system within 10 s (a libvirtd still shutting down holds its pid file; see /var/log/libvirt/libvirtd.log)"
