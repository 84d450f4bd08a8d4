#!/usr/bin/env python3
"""bench/mcload.py - a small memcached load client for bench/servers.py.

    bench/mcload.py --port PORT [--host 127.0.0.1] [--conns 4] [--keys 10000] [--seconds 0]

Debian 12 packages neither memtier_benchmark nor memaslap, so this is the
load: --conns threads, one TCP connection each, each looping over one set
(64-byte value) and nine gets of random keys in memcached's text protocol,
one request at a time (no pipelining: every request is a system call in and
one out on the server, as with a real client).  Runs until killed, or for
--seconds; then prints "requests N seconds S" on stdout.
"""

import argparse
import random
import socket
import threading
import time

VALUE = b"x" * 64


def recv_until(sock, buf, end):
    while not buf.endswith(end):
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("memcached closed the connection")
        buf += chunk
    return buf


def worker(host, port, keys, until, counts, i):
    rnd = random.Random(i)
    with socket.create_connection((host, port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        n = 0
        while until is None or time.monotonic() < until:
            key = b"key:%d" % rnd.randrange(keys)
            if n % 10 == 0:
                s.sendall(b"set %s 0 0 %d\r\n%s\r\n" % (key, len(VALUE), VALUE))
                recv_until(s, b"", b"\r\n")
            else:
                s.sendall(b"get %s\r\n" % key)
                recv_until(s, b"", b"END\r\n")
            n += 1
            counts[i] = n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--keys", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=0, help="0: until killed")
    a = ap.parse_args()
    t0 = time.monotonic()
    until = t0 + a.seconds if a.seconds > 0 else None
    counts = [0] * a.conns
    threads = [threading.Thread(target=worker, args=(a.host, a.port, a.keys, until, counts, i),
                                daemon=True) for i in range(a.conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("requests %d seconds %.3f" % (sum(counts), time.monotonic() - t0), flush=True)


if __name__ == "__main__":
    main()
