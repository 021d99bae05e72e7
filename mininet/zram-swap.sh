#!/usr/bin/env bash
# Enables compressed swap in RAM (zram, lz4) when the host has no swap at all, so
# that park depth `reclaim` has somewhere to push a paused guest's memory
# (docs/parking.md, "Depth reclaim"; production recipe in docs/operations.md).
# Run as root; used by mininet/setup.sh. Idempotent:
#   - any swap already listed in /proc/swaps (ours from an earlier run, or the
#     host's own) -> nothing is done: we never add a second one, never swapoff;
#   - otherwise a zram device with no disk size (or a new one from zram-control)
#     gets lz4 (the kernel's default algorithm if lz4 is not offered), the size,
#     mkswap and `swapon -p 100`.
#
# Environment:
#   SEAMLESS_ZRAM_SIZE   size of the zram swap device (uncompressed bytes it may
#                        hold; default 4G; suffixes K M G as zram accepts them)
#   SEAMLESS_ZRAM=0      do not touch swap at all
set -euo pipefail

say() { echo "zram-swap: $*"; }
fail() { echo "zram-swap: error: $*" >&2; exit 1; }

size=${SEAMLESS_ZRAM_SIZE:-4G}
[[ "$size" =~ ^[0-9]+[KMG]?$ ]] || fail "SEAMLESS_ZRAM_SIZE=$size is not a size like 4G, 512M or 1073741824"

if [ "${SEAMLESS_ZRAM:-1}" = 0 ]; then
  say "skipped (SEAMLESS_ZRAM=0)"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || fail "must run as root (swapon)"

# /proc/swaps: a header line, then one line per active swap area.
if [ "$(tail -n +2 /proc/swaps | wc -l)" -gt 0 ]; then
  say "swap already enabled: $(tail -n +2 /proc/swaps | awk '{print $1}' | paste -sd' ')"
  exit 0
fi

[ -e /sys/block/zram0 ] || modprobe zram num_devices=1 2>/dev/null || true
dev=""
for d in /sys/block/zram*; do
  [ -e "$d/disksize" ] || continue
  # An unused device has disk size 0; one with a size belongs to someone else.
  if [ "$(cat "$d/disksize")" = 0 ]; then dev=${d##*/}; break; fi
done
if [ -z "$dev" ] && [ -e /sys/class/zram-control/hot_add ]; then
  dev=zram$(cat /sys/class/zram-control/hot_add)
fi
[ -n "$dev" ] || fail "no free zram device (no /sys/block/zram*, modprobe zram failed, no zram-control); see docs/operations.md for a swap device instead"

# The algorithm must be chosen before the size; lz4 is fast enough that a
# page-in costs microseconds, which is what keeps a reclaim wake near a pause wake.
if grep -qw lz4 "/sys/block/$dev/comp_algorithm"; then
  echo lz4 >"/sys/block/$dev/comp_algorithm"
else
  say "warning: lz4 not offered by $dev ($(cat "/sys/block/$dev/comp_algorithm")); keeping the default"
fi
echo "$size" >"/sys/block/$dev/disksize" || fail "cannot set /sys/block/$dev/disksize to $size"
mkswap "/dev/$dev" >/dev/null || fail "mkswap /dev/$dev failed"
swapon -p 100 "/dev/$dev" || fail "swapon /dev/$dev failed"
say "enabled /dev/$dev: $size, $(grep -o '\[[a-z0-9-]*\]' "/sys/block/$dev/comp_algorithm" | tr -d '[]'), priority 100"
