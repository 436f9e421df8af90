#!/usr/bin/env python3
"""Stands in for systemd's notify socket (Node cannot bind a unix datagram socket).

Binds an AF_UNIX SOCK_DGRAM socket at argv[1] ("@name" = abstract), asks the kernel for the
sender's credentials (SO_PASSCRED, as systemd does to enforce NotifyAccess=main), and prints one
JSON line per datagram: {"pid": sender pid, "msg": text}. Prints {"listening": path} first.
"""
import json
import socket
import struct
import sys

path = sys.argv[1]
addr = "\0" + path[1:] if path.startswith("@") else path
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(addr)
print(json.dumps({"listening": path}), flush=True)
creds_len = struct.calcsize("3i")
while True:
    data, anc, _flags, _addr = s.recvmsg(4096, socket.CMSG_SPACE(creds_len))
    pid = None
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("3i", payload[:creds_len])[0]
    print(json.dumps({"pid": pid, "msg": data.decode("utf-8", "replace")}), flush=True)
