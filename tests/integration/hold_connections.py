#!/usr/bin/env python3
"""hold_connections.py COUNT TARGET [TARGET...]: run a server out of file
descriptors, as idle clients would.

Opens COUNT idle connections to each TARGET and holds them all: a server
with fewer descriptors to spare accepts some, and every listener named here
then meets failed accepts, its other connections waiting in its backlog
(whatever descriptor the server frees meanwhile, a waiting connection takes
it). A TARGET is PORT (on 127.0.0.1) or a Unix socket's path. Prints
"held N" once the connections are open, then closes them all when a line
arrives on standard input (or it ends)."""

import socket
import sys


def connect(target):
    if target.isdigit():
        s = socket.create_connection(("127.0.0.1", int(target)), timeout=5)
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(target)
    return s


def main():
    count = int(sys.argv[1])
    targets = sys.argv[2:]
    held = []
    for target in targets:
        for _ in range(count):
            try:
                held.append(connect(target))
            except OSError:
                break  # the backlog is full: enough wait

    print(f"held {len(held)}", flush=True)
    sys.stdin.readline()
    for s in held:
        s.close()
    print("released", flush=True)


if __name__ == "__main__":
    main()
