#!/usr/bin/env python3
"""A rogue LAN host's forged VRRPv2 advert: the twin's source address, our VRID and VIP, and a
simple-password authentication the pair does not use. Nothing authenticates an advert's source
address, so the boxes' VRRP sockets take it for the twin's and drop it for its authentication.
Sends one every INTERVAL_MS on IFACE until killed and prints "sending" after the first.

usage: forge-advert.py IFACE SOURCE VRID VIP INTERVAL_MS
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


def advert(source: str, vrid: int, vip: str) -> bytes:
    # VRRPv2 (RFC 3768 5.1): version 2 type 1, VRID, priority, one address, auth type 1 (simple
    # text password), advert interval 1 s, checksum, the address, 8 bytes of password.
    body = struct.pack("!BBBBBBH", 0x21, vrid, 150, 1, 1, 1, 0) + socket.inet_aton(vip) + b"forged!\0"
    body = body[:6] + struct.pack("!H", checksum(body)) + body[8:]
    dst = "224.0.0.18"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0xC0, 20 + len(body), 0x4242, 0, 255, 112, 0, socket.inet_aton(source), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + body


def main() -> None:
    iface, source, vrid, vip, interval_ms = sys.argv[1:6]
    pkt = advert(source, int(vrid), vip)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    told = False
    while True:
        s.sendto(pkt, ("224.0.0.18", 0))
        if not told:
            print("sending", flush=True)
            told = True
        time.sleep(float(interval_ms) / 1000)


if __name__ == "__main__":
    main()
