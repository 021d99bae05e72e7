#!/usr/bin/env bash
# The one set-up command for a fresh Debian 12 machine (run as root):
#   sudo bash mininet/setup.sh
# Installs the Debian packages the project needs, starts Open vSwitch, libvirtd
# and virtlogd without systemd, and installs the npm dependencies. Idempotent:
# a second run installs nothing, starts nothing already running and skips
# `npm ci` while node_modules satisfies package.json.
#
# Environment:
#   SEAMLESS_SETUP_LOG   where apt/npm output goes (default /var/log/seamless-setup.log)
#   SEAMLESS_SKIP_NPM=1  do not touch node_modules (demo.sh uses this)
#   SEAMLESS_ZRAM_SIZE   size of the compressed swap enabled when the host has
#                        no swap (default 4G; mininet/zram-swap.sh); SEAMLESS_ZRAM=0 skips it
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log=${SEAMLESS_SETUP_LOG:-/var/log/seamless-setup.log}
start=$SECONDS
: >"$log"

say() { printf 'setup: %s\n' "$*"; }
fail() {
  say "FAILED: $* (last lines of $log follow)" >&2
  tail -n 30 "$log" >&2 || true
  exit 1
}

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: must run as root (OVS, netns and libvirt need it): sudo bash $0" >&2
  exit 1
fi

# --- Debian packages ------------------------------------------------------
# All without recommends: recommends pull in desktop/X bits and double the time.
packages=(
  openvswitch-switch mininet python3-os-ken redis-server tshark
  ethtool iproute2 iputils-ping curl tcpdump psmisc cpio xz-utils arping hping3
  libvirt-daemon-system libvirt-daemon-driver-qemu qemu-system-x86 qemu-utils
  linux-image-amd64 busybox-static libvirt-clients
  # The metrics and dashboards tests scrape and query a real Prometheus (its own
  # config, data dir and loopback port; the packaged service is not used).
  prometheus
  # Replay: tshark (above) reads pcap/pcapng traces; the trace tests write small
  # captures with scapy and convert them to pcapng with editcap (wireshark-common).
  python3-scapy wireshark-common
  # The run report test renders the page in headless Chromium.
  chromium
  # Real replay (docs/operations.md#real-replay): a CSV flow trace becomes packets
  # (python3-scapy, above) that tcpreplay sends into the Mininet testbed.
  tcpreplay
)
missing=()
for p in "${packages[@]}"; do
  # "ii " = wanted install, installed ok; anything else (absent, half-configured) is missing.
  if [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" != "ii " ]; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${#missing[@]} Debian packages: ${missing[*]} (log: $log)"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer once, non-interactively.
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
  # Other engineers on a shared dev machine may be running apt at the same time:
  # wait for the dpkg lock instead of failing.
  apt_opts=(-y -q -o DPkg::Lock::Timeout=900 -o Dpkg::Options::=--force-confold)
  t=$SECONDS
  apt-get "${apt_opts[@]}" update >>"$log" 2>&1 || fail "apt-get update"
  apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}" >>"$log" 2>&1 ||
    fail "apt-get install"
  say "packages installed in $((SECONDS - t)) s"
else
  say "all ${#packages[@]} Debian packages already installed"
fi

# --- Open vSwitch (userspace datapath; no kernel module on these machines) ---
ovs_up() {
  ovs-vsctl --timeout=3 show >/dev/null 2>&1 &&
    ovs-appctl --timeout=3 -t ovs-vswitchd version >/dev/null 2>&1
}
if ovs_up; then
  say "Open vSwitch already running"
else
  # ovs-ctl warns about ulimit and the missing kernel module; both are harmless
  # because every bridge of this project uses datapath_type=netdev.
  /usr/share/openvswitch/scripts/ovs-ctl start --system-id=random >>"$log" 2>&1 ||
    fail "ovs-ctl start"
  ovs_up || fail "Open vSwitch did not answer after ovs-ctl start"
  say "Open vSwitch started"
fi

# --- libvirt (no systemd: run the daemons by hand, huge pages off) --------
# Certificates + TLS/TCP listeners on loopback first: libvirtd reads them when it starts.
bash "$repo/mininet/libvirt-tls.sh" 2>&1 | tee -a "$log" | sed 's/^libvirt-tls: /setup: /' ||
  fail "mininet/libvirt-tls.sh"
bash "$repo/mininet/start-libvirtd.sh" 2>&1 | tee -a "$log" | sed 's/^start-libvirtd: /setup: /' ||
  fail "mininet/start-libvirtd.sh"

# --- compressed swap for park depth reclaim (only when the host has no swap) ---
bash "$repo/mininet/zram-swap.sh" 2>&1 | tee -a "$log" | sed 's/^zram-swap: /setup: /' ||
  fail "mininet/zram-swap.sh"

# --- npm dependencies --------------------------------------------------------
if [ "${SEAMLESS_SKIP_NPM:-0}" = 1 ]; then
  say "npm ci skipped (SEAMLESS_SKIP_NPM=1)"
else
  # `npm ls` fails when a dependency of package.json is missing or does not
  # satisfy it. Skipping `npm ci` then keeps a dev machine's node_modules in
  # place (npm ci deletes it first, breaking tests running beside us); a fresh
  # clone has no node_modules and always gets `npm ci`.
  if [ -d "$repo/node_modules" ] && (cd "$repo" && npm ls --all >/dev/null 2>&1); then
    say "node_modules already satisfies package.json"
  else
    t=$SECONDS
    (cd "$repo" && npm ci --no-audit --no-fund) >>"$log" 2>&1 || fail "npm ci"
    say "npm ci done in $((SECONDS - t)) s"
  fi
fi

say "ready in $((SECONDS - start)) s"
