#!/usr/bin/env python3
"""A name server for the native checks of scripts/aot-smoke.sh: answers the SRV question for NAME with one record
pointing at 127.0.0.1:PORT (TTL 5 s), and NXDOMAIN to anything else (RFC 1035 §4, RFC 2782).

Usage: dns-srv.py LISTEN_PORT NAME PORT
"""
import socket
import struct
import sys

listen_port, name, target_port = int(sys.argv[1]), sys.argv[2].rstrip(".").lower(), int(sys.argv[3])
target = b"".join(bytes([len(label)]) + label.encode() for label in "127.0.0.1".split(".")) + b"\0"

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", listen_port))
while True:
    query, client = sock.recvfrom(4096)
    if len(query) < 12:
        continue
    labels, end = [], 12
    while end < len(query) and query[end] != 0:
        labels.append(query[end + 1:end + 1 + query[end]].decode("ascii", "replace"))
        end += query[end] + 1
    end += 5
    qtype = struct.unpack(">H", query[end - 4:end - 2])[0]
    known = ".".join(labels).lower() == name
    answers = 1 if known and qtype == 33 else 0
    flags = 0x8180 if known else 0x8183
    reply = query[:2] + struct.pack(">HHHHH", flags, 1, answers, 0, 0) + query[12:end]
    if answers:
        rdata = struct.pack(">HHH", 0, 1, target_port) + target
        reply += b"\xc0\x0c" + struct.pack(">HHIH", 33, 1, 5, len(rdata)) + rdata
    sock.sendto(reply, client)
