#!/usr/bin/env python3
"""A TCP proxy for the fault suite that can hold traffic (python3 stdlib only).

    holdproxy.py LISTEN_PORT TARGET_HOST TARGET_PORT

It forwards every accepted connection to TARGET. Signals change what it does:

    SIGUSR1  hold: stop reading and forwarding in both directions, keep every socket open
             (new connections are accepted and connected upstream, but held too). What the
             peers write stays in the kernel buffers; to them the link looks silent, like a
             network partition without a reset.
    SIGUSR2  resume: forward again, buffered bytes first.
    SIGHUP   cut: reset every open connection (both sides), then keep forwarding new ones.

It prints one line per event on standard output ("listening", "hold", "resume", "cut N",
"open N", "close N") and stops on SIGTERM or SIGINT.
"""
import selectors
import signal
import socket
import struct
import sys


def main() -> None:
    listen_port, target_host, target_port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    sel = selectors.DefaultSelector()
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen_port))
    server.listen(64)
    server.setblocking(False)
    sel.register(server, selectors.EVENT_READ, None)

    state = {"held": False, "cut": False, "stop": False}
    peers = {}  # socket -> its partner
    pending = {}  # socket -> bytes waiting to be written to it
    count = [0]

    def say(text: str) -> None:
        print(text, flush=True)

    def on_signal(number, _frame) -> None:
        if number == signal.SIGUSR1:
            state["held"] = True
        elif number == signal.SIGUSR2:
            state["held"] = False
        elif number == signal.SIGHUP:
            state["cut"] = True
        else:
            state["stop"] = True

    for number in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
        signal.signal(number, on_signal)

    def close_pair(sock: socket.socket, reset: bool = False) -> None:
        partner = peers.pop(sock, None)
        for s in (sock, partner):
            if s is None:
                continue
            peers.pop(s, None)
            pending.pop(s, None)
            try:
                sel.unregister(s)
            except (KeyError, ValueError):
                pass
            if reset:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()

    def interest(sock: socket.socket) -> int:
        if state["held"]:
            return 0
        events = selectors.EVENT_READ
        if pending.get(sock):
            events |= selectors.EVENT_WRITE
        return events

    def refresh() -> None:
        for s in list(peers):
            events = interest(s)
            registered = s in sel.get_map()
            if events == 0 and registered:
                sel.unregister(s)
            elif events and not registered:
                sel.register(s, events, "peer")
            elif events and registered and sel.get_key(s).events != events:
                sel.modify(s, events, "peer")

    say(f"listening 127.0.0.1:{listen_port} -> {target_host}:{target_port}")
    held_before = False
    while not state["stop"]:
        if state["cut"]:
            state["cut"] = False
            n = 0
            for s in list(peers):
                if s in peers:
                    close_pair(s, reset=True)
                    n += 1
            say(f"cut {n}")
        if state["held"] != held_before:
            held_before = state["held"]
            say("hold" if held_before else "resume")
        refresh()
        try:
            ready = sel.select(timeout=0.1)
        except InterruptedError:
            continue
        for key, events in ready:
            sock = key.fileobj
            if key.data is None:
                try:
                    client, _ = server.accept()
                except BlockingIOError:
                    continue
                try:
                    upstream = socket.create_connection((target_host, target_port), timeout=5)
                except OSError as error:
                    say(f"upstream unreachable: {error}")
                    client.close()
                    continue
                for s in (client, upstream):
                    s.setblocking(False)
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                peers[client], peers[upstream] = upstream, client
                count[0] += 1
                say(f"open {count[0]}")
                continue
            if sock not in peers:
                continue
            if events & selectors.EVENT_WRITE and pending.get(sock):
                try:
                    sent = sock.send(pending[sock])
                    pending[sock] = pending[sock][sent:]
                except BlockingIOError:
                    pass
                except OSError:
                    close_pair(sock)
                    continue
            if events & selectors.EVENT_READ:
                partner = peers.get(sock)
                # Back-pressure: do not read more while the partner still has a backlog.
                if partner is None or len(pending.get(partner, b"")) > 1 << 20:
                    continue
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    say("close")
                    close_pair(sock)
                    continue
                pending[partner] = pending.get(partner, b"") + data
    for s in list(peers):
        if s in peers:
            close_pair(s)
    server.close()


if __name__ == "__main__":
    main()
