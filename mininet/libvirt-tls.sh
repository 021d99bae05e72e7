#!/usr/bin/env bash
# Makes the testbed's libvirtd reachable the way a remote hypervisor host is:
# over TLS (qemu+tls://localhost/system, port 16514, client certificate, server
# certificate verified against a CA and by host name) and, for the lab-only
# tests, over plain TCP (qemu+tcp://127.0.0.1/system, port 16509). Both listen on
# loopback only. Called by mininet/setup.sh before start-libvirtd.sh; idempotent.
#
# A small CA, a server certificate (localhost, 127.0.0.1) and a client
# certificate are generated ON THIS MACHINE with openssl, in libvirt's default
# places, so virsh and seamless find them without options:
#   /etc/pki/CA/cacert.pem                    CA (its key: /etc/pki/CA/private/cakey.pem)
#   /etc/pki/libvirt/servercert.pem           + private/serverkey.pem   (libvirtd)
#   /etc/pki/libvirt/clientcert.pem           + private/clientkey.pem   (seamless, virsh)
# Keys never leave the machine and never enter the repository.
#
# Existing, still valid (> 30 days) certificates are kept; pass --renew to make new ones.
set -euo pipefail

say() { echo "libvirt-tls: $*"; }
fail() { echo "libvirt-tls: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "must run as root (writes /etc/pki and /etc/libvirt/libvirtd.conf)"
command -v openssl >/dev/null || fail "openssl is missing (apt-get install -y openssl)"

CA_DIR=/etc/pki/CA
LV_DIR=/etc/pki/libvirt
CONF=/etc/libvirt/libvirtd.conf
DAYS=825
renew=0
[ "${1:-}" = "--renew" ] && renew=1

mkdir -p "$CA_DIR/private" "$LV_DIR/private"
chmod 700 "$CA_DIR/private" "$LV_DIR/private"

valid() { # cert file: exists, chains to our CA, valid for 30 more days
  [ -s "$1" ] && openssl verify -CAfile "$CA_DIR/cacert.pem" "$1" >/dev/null 2>&1 &&
    openssl x509 -in "$1" -noout -checkend $((30 * 86400)) >/dev/null 2>&1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- CA -------------------------------------------------------------------
if [ "$renew" = 1 ] || ! [ -s "$CA_DIR/private/cakey.pem" ] || ! openssl x509 -in "$CA_DIR/cacert.pem" -noout -checkend $((30 * 86400)) >/dev/null 2>&1; then
  openssl req -x509 -new -nodes -newkey rsa:3072 -sha256 -days 3650 \
    -keyout "$CA_DIR/private/cakey.pem" -out "$CA_DIR/cacert.pem" \
    -subj "/O=seamless testbed/CN=seamless testbed libvirt CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  chmod 600 "$CA_DIR/private/cakey.pem"
  chmod 644 "$CA_DIR/cacert.pem"
  renew=1 # certificates of an old CA no longer verify
  say "made a new CA: $CA_DIR/cacert.pem"
fi

# issue NAME CN EKU SAN: key + certificate signed by the CA
issue() {
  local name=$1 cn=$2 eku=$3 san=$4
  cat >"$tmp/$name.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$eku
${san:+subjectAltName=$san}
EOF
  openssl req -new -nodes -newkey rsa:3072 -keyout "$LV_DIR/private/${name}key.pem" -out "$tmp/$name.csr" \
    -subj "/O=seamless testbed/CN=$cn" 2>/dev/null
  openssl x509 -req -in "$tmp/$name.csr" -CA "$CA_DIR/cacert.pem" -CAkey "$CA_DIR/private/cakey.pem" \
    -CAcreateserial -CAserial "$tmp/serial" -sha256 -days "$DAYS" -extfile "$tmp/$name.ext" -out "$LV_DIR/${name}cert.pem" 2>/dev/null
  chmod 600 "$LV_DIR/private/${name}key.pem"
  chmod 644 "$LV_DIR/${name}cert.pem"
  say "issued $LV_DIR/${name}cert.pem (CN=$cn)"
}

if [ "$renew" = 1 ] || ! valid "$LV_DIR/servercert.pem"; then
  # The client checks the host name it dialled: localhost and 127.0.0.1 both verify.
  issue server localhost serverAuth "DNS:localhost,IP:127.0.0.1"
fi
if [ "$renew" = 1 ] || ! valid "$LV_DIR/clientcert.pem"; then
  issue client seamless-controller clientAuth ""
fi

# --- libvirtd.conf: listen on loopback, TLS with client certificates, TCP for labs ---
# One marked block, replaced on each run. auth_tcp = none is only acceptable because
# the TCP listener is on loopback (docs/operations.md, "TLS vs TCP").
begin="# --- seamless testbed (mininet/libvirt-tls.sh) ---"
end="# --- end seamless testbed ---"
if [ -f "$CONF" ] && grep -qF "$begin" "$CONF"; then
  sed -i "\|$begin|,\|$end|d" "$CONF"
fi
cat >>"$CONF" <<EOF
$begin
listen_tls = 1
listen_tcp = 1
listen_addr = "127.0.0.1"
auth_tls = "none"
auth_tcp = "none"
tls_no_verify_certificate = 0
$end
EOF
say "libvirtd.conf: TLS on 127.0.0.1:16514 (client certificates required), TCP on 127.0.0.1:16509 (lab only)"

# libvirtd reads the certificates and listen settings at start: a running daemon
# without the listeners is restarted by start-libvirtd.sh only when asked to.
if pgrep -xo libvirtd >/dev/null && ! (exec 3<>/dev/tcp/127.0.0.1/16514) 2>/dev/null; then
  say "note: the running libvirtd does not listen on 16514 yet; restart it (guests keep running):" \
    "pkill -x libvirtd; bash mininet/start-libvirtd.sh"
fi
