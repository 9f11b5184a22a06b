#!/usr/bin/env python3
"""Send encapsulated UDP datagrams to a backend the way an attacker (or
sluice) would, from whatever host this runs on: the outer header is this
host's own (the kernel writes it), the inner one says whatever we like.

    encap_send.py PREFIX BACKEND4 BACKEND6 VIP4 VIP6 DPORT COUNT

sends COUNT times each of: ipip4 (IPv4-in-IPv4, a raw protocol-4 socket),
gue4 (the inner packet as the payload of UDP to port 6080 over IPv4), ipip6
(IPv6-in-IPv6, protocol 41) and gue6. The inner packet is UDP from a client
address (198.51.100.7, 2001:db8:1::7) to the VIP's DPORT carrying
"PREFIX-MODE", with a correct checksum, so that nothing but the
decapsulation's verdict decides whether it reaches a socket. One process
for all of them: starting Python in a namespace is the slow part. Used by
xdp_attach_test.sh.
"""
import ipaddress
import socket
import struct
import sys

GUE_PORT = 6080


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp(src, dst, sport, dport, payload):
    """A UDP datagram with its checksum over the pseudo-header."""
    length = 8 + len(payload)
    s, d = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    if len(s) == 4:
        pseudo = s + d + struct.pack("!BBH", 0, 17, length)
    else:
        pseudo = s + d + struct.pack("!I3xB", length, 17)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    c = csum(pseudo + hdr + payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, length, c) + payload


def inner_packet(src, dst, dport, payload):
    seg = udp(src, dst, 40000, dport, payload)
    s, d = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    if len(s) == 4:
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), 0, 0x4000, 64, 17, 0, s, d)
        hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
        return hdr + seg
    return struct.pack("!IHBB16s16s", 6 << 28, len(seg), 17, 64, s, d) + seg


SENDERS = {
    "ipip4": (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IPIP, 0),
    "gue4": (socket.AF_INET, socket.SOCK_DGRAM, 0, GUE_PORT),
    "ipip6": (socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_IPV6, 0),
    "gue6": (socket.AF_INET6, socket.SOCK_DGRAM, 0, GUE_PORT),
}


def main():
    prefix, backend4, backend6, vip4, vip6, dport, count = sys.argv[1:8]
    for mode, (family, kind, proto, port) in SENDERS.items():
        v6 = family == socket.AF_INET6
        pkt = inner_packet("2001:db8:1::7" if v6 else "198.51.100.7", vip6 if v6 else vip4,
                           int(dport), f"{prefix}-{mode}".encode())
        s = socket.socket(family, kind, proto)
        for _ in range(int(count)):
            s.sendto(pkt, (backend6 if v6 else backend4, port))
        s.close()


if __name__ == "__main__":
    main()
