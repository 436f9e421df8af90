#!/usr/bin/env bash
# Installs the Debian packages the integration tests and the demo use, only when missing.
# Runs apt-get update once, before the first install. Services are not started by the install:
# the tests start their own daemons inside their own network namespaces.
set -euo pipefail
pkgs=(keepalived nginx libnginx-mod-stream mosquitto mosquitto-clients socat tcpdump iproute2
      iputils-ping iputils-arping picocom tmux procps)
# tshark: test/integration/vrrp/tshark-decode.test.ts decodes our packets with Wireshark's
# dissectors (DEBIAN_FRONTEND=noninteractive below skips its "non-root capture" question).
pkgs+=(tshark)
# The image tests (test/integration/image): systemd-analyze verify and systemd-tmpfiles on the
# unit, file(1) on the tarball's binaries, python3 as the sd_notify receiver; on an x64 host the
# arm64 tarball needs the cross compiler for the addon and qemu-user to run its arm64 Node.js.
pkgs+=(systemd file python3)
# test/integration/image/systemd-boot.test.ts: a minimal Debian rootfs (mmdebstrap) booted with
# systemd-nspawn (systemd-container).
pkgs+=(mmdebstrap systemd-container)
# make test-stress: the background CPU and I/O load the integration runs are repeated under.
pkgs+=(stress-ng)
# test/integration/nginx/logs.test.ts runs the image's /etc/logrotate.d/twinvip-nginx rule.
pkgs+=(logrotate)
# test/integration/fail-loudly: nft drops VRRP output in a namespace (sendmsg EPERM while running);
# setpriv (util-linux) drops CAP_NET_RAW from the bounding set.
pkgs+=(nftables util-linux)
[ "$(uname -m)" = x86_64 ] && pkgs+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static)
missing=()
command -v make >/dev/null || missing+=(make)
command -v npm >/dev/null || missing+=(npm)
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "twinvip: missing Debian packages: ${missing[*]} (run as root, or apt-get install them)" >&2
  exit 1
fi
echo "twinvip: installing ${missing[*]}"
created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
fi
trap '[ $created_policy -eq 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
