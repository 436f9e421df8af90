#!/usr/bin/env bash
# Capture real keepalived adverts as golden vectors for the VRRP codec tests.
#
# For each scenario below: keepalived runs in namespace <prefix>ka (interface lan0,
# 10.99.0.1/24, fixed MAC so the IPv6 link-local source is stable), tcpdump listens in the
# peer namespace <prefix>cap (lan0, 10.99.0.2/24), i.e. we record what a receiving router sees.
# keepalived is stopped with SIGTERM once a few adverts are on the wire, so each capture also
# holds the priority-0 advert a stopping MASTER sends (RFC 3768 / 5798 section 6.4.3).
#
# ONLY=name1,name2 captures just those scenarios (the others' fixtures stay as they are).
#
# Output (default test/fixtures/vrrp/): NAME.pcap, NAME.conf (the keepalived config used),
# NAME.log (keepalived's own log of the run, for the curious; not read by tests).
# The JSON sidecar (expectations per scenario) is index.json, written by hand from the
# configs below; the tests read the addresses/TTL from the captured IP headers themselves.
#
# Network rule: everything that sends VRRP runs only inside the two namespaces this script
# creates (unique prefix per run); the trap removes them and kills only the PIDs it started.
set -euo pipefail

OUT=${1:-"$(cd "$(dirname "$0")/.." && pwd)/test/fixtures/vrrp"}
KEEPALIVED=${KEEPALIVED:-/usr/sbin/keepalived}
TCPDUMP=${TCPDUMP:-/usr/bin/tcpdump}
[ "$(id -u)" = 0 ] || { echo "capture: needs root (network namespaces)" >&2; exit 1; }
[ -x "$KEEPALIVED" ] || { echo "capture: keepalived not found at $KEEPALIVED" >&2; exit 1; }
[ -x "$TCPDUMP" ] || { echo "capture: tcpdump not found at $TCPDUMP" >&2; exit 1; }

PFX=tv$(printf '%04x' $((RANDOM % 65536)))
NSA=${PFX}ka
NSB=${PFX}cap
WORK=$(mktemp -d "/tmp/${PFX}-capture.XXXXXX")
STARTED_PIDS=()

cleanup() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for pid in "${STARTED_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  ip netns del "$NSA" 2>/dev/null || true
  ip netns del "$NSB" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Poll an observable condition (no event exists for "tcpdump is listening" or "N packets
# captured"); $1 = timeout in tenths of a second, rest = command.
wait_for() {
  local tenths=$1; shift
  local i
  for ((i = 0; i < tenths; i++)); do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  return 1
}
tcpdump_listening() { grep -q 'listening on' "$1" 2>/dev/null; }
packets_in() { "$TCPDUMP" -r "$1" -n 2>/dev/null | wc -l; }
at_least_packets() { [ "$(packets_in "$1")" -ge "$2" ]; }
has_priority_zero() { "$TCPDUMP" -r "$1" -n -v 2>/dev/null | grep -q 'prio 0'; }

ip netns add "$NSA"
ip netns add "$NSB"
for ns in "$NSA" "$NSB"; do
  # No DAD: keepalived needs the link-local source address at once.
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip -n "$ns" link set lo up
done
ip link add "${PFX}a" type veth peer name "${PFX}b"
ip link set "${PFX}a" netns "$NSA"
ip link set "${PFX}b" netns "$NSB"
ip -n "$NSA" link set "${PFX}a" name lan0 address 02:00:00:00:00:01
ip -n "$NSB" link set "${PFX}b" name lan0 address 02:00:00:00:00:02
ip -n "$NSA" addr add 10.99.0.1/24 dev lan0
ip -n "$NSB" addr add 10.99.0.2/24 dev lan0
ip -n "$NSA" link set lan0 up
ip -n "$NSB" link set lan0 up
# fe80::ff:fe00:1 on the keepalived side (EUI-64 of 02:00:00:00:00:01).
wait_for 50 bash -c "ip -n $NSA -6 addr show dev lan0 scope link | grep -q fe80::ff:fe00:1"

# $1 = scenario name; the keepalived config is read from stdin.
capture() {
  local name=$1 conf="$WORK/$1.conf" pcap="$WORK/$1.pcap" tpid kpid
  cat >"$conf"
  if [ -n "${ONLY:-}" ] && [[ ",$ONLY," != *",$name,"* ]]; then return 0; fi
  # Protocol 51: adverts authenticated with IPsec AH (auth_type AH) travel inside AH.
  ip netns exec "$NSB" "$TCPDUMP" -i lan0 -U -n -w "$pcap" 'ip proto 112 or ip proto 51 or ip6 proto 112' \
    2>"$WORK/$name.tcpdump.err" &
  tpid=$!
  STARTED_PIDS+=("$tpid")
  wait_for 100 tcpdump_listening "$WORK/$name.tcpdump.err" || { echo "capture: tcpdump did not start" >&2; return 1; }

  ip netns exec "$NSA" "$KEEPALIVED" -n -l -D -P -f "$conf" \
    -p "$WORK/$name.keepalived.pid" -r "$WORK/$name.vrrp.pid" -c "$WORK/$name.checkers.pid" \
    >"$WORK/$name.log" 2>&1 &
  kpid=$!
  STARTED_PIDS+=("$kpid")
  if ! wait_for 150 at_least_packets "$pcap" 3; then
    echo "capture: $name: fewer than 3 adverts in 15 s; keepalived log:" >&2
    cat "$WORK/$name.log" >&2
    return 1
  fi
  if grep -q 'Unknown keyword' "$WORK/$name.log"; then
    echo "capture: $name: keepalived ignored part of the config:" >&2
    grep 'Unknown keyword' "$WORK/$name.log" >&2
    return 1
  fi
  kill -TERM "$kpid"
  wait "$kpid" || true
  wait_for 30 has_priority_zero "$pcap" || echo "capture: $name: no priority-0 advert seen" >&2
  kill -INT "$tpid"
  wait "$tpid" || true
  cp "$pcap" "$conf" "$OUT/"
  sed -e "s/${PFX}/PFX/g" "$WORK/$name.log" >"$OUT/$name.log"
  echo "capture: $name: $(packets_in "$pcap") packets"
}

mkdir -p "$OUT"

capture v2-ipv4 <<'CONF'
global_defs {
  router_id twinvip-capture
}
vrrp_instance VI_1 {
  state MASTER
  interface lan0
  virtual_router_id 51
  priority 150
  advert_int 1
  virtual_ipaddress {
    10.99.0.100/24
  }
}
CONF

capture v2-ipv4-pass <<'CONF'
global_defs {
  router_id twinvip-capture
}
vrrp_instance VI_1 {
  state MASTER
  interface lan0
  virtual_router_id 52
  priority 120
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass tw1n
  }
  virtual_ipaddress {
    10.99.0.100/24
  }
}
CONF

capture v2-ipv4-pass-long <<'CONF'
global_defs {
  router_id twinvip-capture
}
vrrp_instance VI_1 {
  state MASTER
  interface lan0
  virtual_router_id 53
  priority 200
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass longpassword123
  }
  virtual_ipaddress {
    10.99.0.100/24
  }
}
CONF

capture v2-ipv4-multi <<'CONF'
global_defs {
  router_id twinvip-capture
}
vrrp_instance VI_1 {
  state MASTER
  interface lan0
  virtual_router_id 54
  priority 100
  advert_int 2
  virtual_ipaddress {
    10.99.0.100/24
    10.99.0.101/24
    192.168.77.1/32
    10.99.0.150/24
  }
}
CONF

capture v2-ipv4-unicast <<'CONF'
global_defs {
  router_id twinvip-capture
}
vrrp_instance VI_1 {
  state MASTER
  interface lan0
  virtual_router_id 55
  priority 150
  advert_int 1
  unicast_src_ip 10.99.0.1
  unicast_peer {
    10.99.0.2
  }
  virtual_ipaddress {
    10.99.0.100/24
  }
}
CONF

capture v3-ipv4 <<'CONF'
global_defs {
  router_id twinvip-capture
}
vrrp_instance VI_1 {
  state MASTER
  version 3
  interface lan0
  virtual_router_id 61
  priority 150
  advert_int 0.5
  virtual_ipaddress {
    10.99.0.100/24
    10.99.0.101/24
  }
}
CONF

# keepalived 2.2.7 does not know v3_checksum_as_v2 (it logs "Unknown keyword"; the keyword
# came in 2.2.8), so the RFC 9568 dialect cannot be captured from it. What 2.2.7 does have is
# old_unicast_checksum: VRRPv3 unicast adverts whose pseudo-header carries the multicast group
# 224.0.0.18 instead of the real unicast destination (keepalived before 1.3.6 did that).
capture v3-ipv4-unicast-old-checksum <<'CONF'
global_defs {
  router_id twinvip-capture
}
vrrp_instance VI_1 {
  state MASTER
  version 3
  interface lan0
  virtual_router_id 64
  priority 150
  advert_int 1
  old_unicast_checksum
  unicast_src_ip 10.99.0.1
  unicast_peer {
    10.99.0.2
  }
  virtual_ipaddress {
    10.99.0.100/24
  }
}
CONF

capture v3-ipv4-unicast <<'CONF'
global_defs {
  router_id twinvip-capture
}
vrrp_instance VI_1 {
  state MASTER
  version 3
  interface lan0
  virtual_router_id 63
  priority 150
  advert_int 1
  unicast_src_ip 10.99.0.1
  unicast_peer {
    10.99.0.2
  }
  virtual_ipaddress {
    10.99.0.100/24
  }
}
CONF

capture v3-ipv6 <<'CONF'
global_defs {
  router_id twinvip-capture
}
vrrp_instance VI_6 {
  state MASTER
  version 3
  interface lan0
  virtual_router_id 71
  priority 150
  advert_int 1
  virtual_ipaddress {
    fe80::1:100/64
    fd00:99::100/64
    2001:db8:0:0:1::10/64
  }
}
CONF

# auth_type AH: keepalived clears "state MASTER" with AH ("Initial state master is incompatible
# with AH authentication"), so the first advert comes after Master_Down_Interval (~3.6 s).
capture v2-ipv4-ah <<'CONF'
global_defs {
  router_id twinvip-capture
}
vrrp_instance VI_1 {
  state BACKUP
  interface lan0
  virtual_router_id 56
  priority 150
  advert_int 1
  authentication {
    auth_type AH
    auth_pass tw1nAH
  }
  virtual_ipaddress {
    10.99.0.100/24
    10.99.0.101/24
  }
}
CONF

# Unicast AH: keepalived leaves the TTL out of the ICV (zeroed) only in unicast mode.
capture v2-ipv4-ah-unicast <<'CONF'
global_defs {
  router_id twinvip-capture
}
vrrp_instance VI_1 {
  state BACKUP
  interface lan0
  virtual_router_id 57
  priority 150
  advert_int 1
  unicast_src_ip 10.99.0.1
  unicast_peer {
    10.99.0.2
  }
  authentication {
    auth_type AH
    auth_pass longAHpassword
  }
  virtual_ipaddress {
    10.99.0.100/24
  }
}
CONF

echo "capture: fixtures in $OUT"
