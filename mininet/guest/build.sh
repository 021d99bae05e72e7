#!/bin/bash
# Build the tiny guest used for parking/waking tests: the installed Debian kernel plus an
# initramfs (busybox-static, virtio-net modules, /init that runs the VM's gateway services).
#
#   mininet/guest/build.sh OUTDIR
#
# Writes OUTDIR/vmlinuz and OUTDIR/initrd.cpio.gz. The build is deterministic (sorted file
# list, fixed mtimes, gzip -n) and cached: OUTDIR/inputs.sha256 records the hash of every
# input, and a rebuild is skipped when it matches. Concurrent builds into the same OUTDIR are
# serialised with flock, so parallel test files can all call this.
#
# Guest kernel command line (parsed by /init):
#   seamless.ip=10.0.0.11/24   address for eth0 (required for networking)
#   seamless.gw=10.0.0.1       default route (optional)
#   seamless.name=vm1          name used in the HTTP body and the TCP banner
#   seamless.http=80           HTTP port (default 80)
#   seamless.tcp=22            TCP banner+echo port (default 22)
#   seamless.service_delay=2   seconds between the network coming up and the services
#                              listening (default 0), like a real guest whose sshd starts
#                              after the network: it answers ARP, then RSTs, then serves
#   seamless.fill=random:32    at boot, write 32 MiB of random (or `zero:N`: zero) data into
#                              a file held in guest RAM (default none): what a guest's
#                              memory holds decides what zram makes of it (park depth reclaim)
#                              and GET /cgi-bin/touch reads all of it, i.e. every request
#                              touches that working set (bench:wake's working-set cycle)
# On the serial console it prints "SEAMLESS-READY <name> <ip>" once the services listen.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
# virtio-net stack in dependency order, then the ACPI power button + evdev so an ACPI
# shutdown request (virDomainShutdown) reaches /init, which powers off.
MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net button evdev"

die() { echo "guest/build.sh: $*" >&2; exit 1; }

BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || die "busybox-static is not installed (apt-get install -y busybox-static)"
# The initramfs has no libc: busybox must be the static build.
if ldd "$BUSYBOX" >/dev/null 2>&1; then die "$BUSYBOX is not static (apt-get install -y busybox-static)"; fi

# Newest installed Debian kernel that has both an image and modules.
KVER=""
for v in $(ls -1 /lib/modules 2>/dev/null | sort -V); do
  [ -r "/boot/vmlinuz-$v" ] && KVER=$v
done
[ -n "$KVER" ] || die "no kernel found in /boot with modules in /lib/modules (apt-get install -y linux-image-amd64)"
KERNEL=/boot/vmlinuz-$KVER
MODDIR=/lib/modules/$KVER/kernel

mod_path() {
  local f
  f=$(find "$MODDIR" \( -name "$1.ko" -o -name "$1.ko.xz" -o -name "$1.ko.zst" \) | sort | head -1)
  [ -n "$f" ] || die "module $1 not found under $MODDIR"
  echo "$f"
}

# ethtool (dynamically linked) lets /init turn guest offloads off; optional.
ETHTOOL=$(command -v ethtool || true)
ETHTOOL_LIBS=""
if [ -n "$ETHTOOL" ]; then
  ETHTOOL_LIBS=$(ldd "$ETHTOOL" | awk '/=>/ {print $3} /^\s*\/lib/ {print $1}' | sort -u)
fi

# Hash of every input: this script, kernel, busybox, modules, ethtool + libs.
INPUTS="$HERE/build.sh $KERNEL $BUSYBOX $ETHTOOL $ETHTOOL_LIBS"
for m in $MODULES; do INPUTS="$INPUTS $(mod_path "$m")"; done
HASH=$( (echo "$KVER $MODULES"; sha256sum $INPUTS | awk '{print $1}') | sha256sum | awk '{print $1}')

mkdir -p "$OUT"
exec 9>"$OUT/.build.lock"
flock -w 120 9 || die "timed out waiting for another build in $OUT"

if [ -f "$OUT/inputs.sha256" ] && [ "$(cat "$OUT/inputs.sha256")" = "$HASH" ] \
   && [ -f "$OUT/initrd.cpio.gz" ] && [ -f "$OUT/vmlinuz" ]; then
  exit 0
fi

STAGE=$(mktemp -d "$OUT/.stage.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
ROOT=$STAGE/root
mkdir -p "$ROOT"/{bin,sbin,dev,proc,sys,tmp,www,lib/modules,etc}
cp "$BUSYBOX" "$ROOT/bin/busybox"
for a in sh mount mkdir cat echo sleep ip insmod httpd nc head poweroff hostname dd wc; do
  ln -s busybox "$ROOT/bin/$a"
done

i=0
for m in $MODULES; do
  src=$(mod_path "$m")
  dst=$(printf '%s/lib/modules/%02d-%s.ko' "$ROOT" "$i" "$m")
  case "$src" in
    *.ko.xz) xz -dc "$src" >"$dst" ;;
    *.ko.zst) zstd -dc "$src" >"$dst" ;;
    *) cp "$src" "$dst" ;;
  esac
  i=$((i + 1))
done

if [ -n "$ETHTOOL" ]; then
  cp "$ETHTOOL" "$ROOT/sbin/ethtool"
  for l in $ETHTOOL_LIBS; do
    mkdir -p "$ROOT$(dirname "$l")"
    cp -L "$l" "$ROOT$l"
  done
fi

cat >"$ROOT/bin/tcp-service" <<'EOF'
#!/bin/sh
# One TCP connection: an SSH-like banner first (server speaks first), then echo.
echo "SSH-2.0-seamless-$(cat /etc/vmname)"
exec /bin/busybox cat
EOF

cat >"$ROOT/init" <<'EOF'
#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "seamless-guest: init"

IP=""; GW=""; NAME=guest; HTTP=80; TCP=22; DELAY=0; FILL=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    seamless.ip=*) IP=${arg#seamless.ip=} ;;
    seamless.gw=*) GW=${arg#seamless.gw=} ;;
    seamless.name=*) NAME=${arg#seamless.name=} ;;
    seamless.http=*) HTTP=${arg#seamless.http=} ;;
    seamless.tcp=*) TCP=${arg#seamless.tcp=} ;;
    seamless.service_delay=*) DELAY=${arg#seamless.service_delay=} ;;
    seamless.fill=*) FILL=${arg#seamless.fill=} ;;
  esac
done
echo "$NAME" >/etc/vmname
hostname "$NAME"

for m in /lib/modules/*.ko; do
  insmod "$m" || echo "seamless-guest: insmod $m failed"
done

n=0
while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
ip link set lo up
if [ -e /sys/class/net/eth0 ]; then
  # The userspace OVS datapath does not fix up partial checksums: offloads must be off.
  [ -x /sbin/ethtool ] && /sbin/ethtool -K eth0 tx off rx off tso off gso off gro off sg off >/dev/null 2>&1
  ip link set eth0 up
  [ -n "$IP" ] && ip addr add "$IP" dev eth0
  [ -n "$GW" ] && ip route add default via "$GW"
else
  echo "seamless-guest: no eth0"
fi

echo "hello from $NAME" >/www/index.html
mkdir -p /data /www/cgi-bin
# CGI: reads the whole fill file (every page of it is touched), answers its size.
# Written before the fill, so a fill that does not fit cannot leave it empty.
cat >/www/cgi-bin/touch <<'CGI'
#!/bin/sh
n=$(cat /data/fill | wc -c)
printf 'Content-Type: text/plain\r\n\r\ntouched %s bytes\n' "$n"
CGI
chmod 0755 /www/cgi-bin/touch
# Its own tmpfs (guest RAM that stays allocated): the rootfs tmpfs is capped at half the
# RAM and already holds the unpacked initramfs, so 32 MiB there ran out of space.
n=${FILL#*:}
case "$FILL" in
  random:*|zero:*) mount -t tmpfs -o size=$((n + 4))m tmpfs /data ;;
esac
: >/data/fill
case "$FILL" in
  random:*) dd if=/dev/urandom of=/data/fill bs=1048576 count="$n" 2>/dev/null ;;
  zero:*) dd if=/dev/zero of=/data/fill bs=1048576 count="$n" 2>/dev/null ;;
  "") ;;
  *) echo "seamless-guest: bad seamless.fill=$FILL (random:MiB or zero:MiB)" ;;
esac
echo "seamless-guest: fill $(wc -c </data/fill) bytes"
if [ "$DELAY" != 0 ]; then
  echo "seamless-guest: network up, services in $DELAY s"
  sleep "$DELAY"
fi
httpd -p "$HTTP" -h /www
# busybox nc: -ll with -e = persistent server, one tcp-service per connection.
nc -ll -p "$TCP" -e /bin/tcp-service &
sleep 0.2
echo "SEAMLESS-READY $NAME $IP"

# ACPI power button (virDomainShutdown) -> power off, so the 'shutdown' park depth works.
# Any event from the "Power Button" input device counts as a press.
for d in /sys/class/input/event*; do
  if [ "$(cat "$d/device/name" 2>/dev/null)" = "Power Button" ]; then
    ev=/dev/input/${d##*/}
    (head -c 1 "$ev" >/dev/null && echo "seamless-guest: power button, powering off" && poweroff -f) &
  fi
done

# PID 1 must not exit.
while true; do sleep 3600; done
EOF
chmod 0755 "$ROOT/init" "$ROOT/bin/tcp-service"

# Deterministic archive: fixed mtimes, sorted names, no gzip timestamp.
find "$ROOT" -exec touch -h -d @0 {} +
(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --reproducible --quiet) | gzip -n -9 >"$STAGE/initrd.cpio.gz"
cp "$KERNEL" "$STAGE/vmlinuz"
chmod 0644 "$STAGE/initrd.cpio.gz" "$STAGE/vmlinuz"
mv -f "$STAGE/initrd.cpio.gz" "$OUT/initrd.cpio.gz"
mv -f "$STAGE/vmlinuz" "$OUT/vmlinuz"
echo "$HASH" >"$OUT/inputs.sha256"
echo "built $OUT/initrd.cpio.gz (kernel $KVER)"
