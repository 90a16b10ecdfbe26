#!/usr/bin/env python3
"""A test SMTP sink on loopback (aiosmtpd): stores each message as a file, can be told to fail.

    smtp_sink.py --dir DIR [--port 0] [--tempfail N] [--reject ADDR ...] [--auth USER:PASS]

Prints "PORT <n>" on stdout once listening; stops on SIGTERM or when stdin closes. Each accepted
message becomes DIR/<n>.eml (with X-Sink-Rcpt and X-Sink-Auth headers). --tempfail N answers the
first N DATA commands with 451 (transient); --reject ADDR answers RCPT TO:<ADDR> with 550
(permanent). --auth requires AUTH (PLAIN or LOGIN) with those credentials.
SIGUSR1 makes it answer every DATA with 451 until SIGUSR2 (the fault suite's refusing relay).
Numbering continues after the files already in DIR, so a restarted sink overwrites nothing.
"""
import argparse
import asyncio
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, directory, tempfail, reject):
        self.directory = directory
        self.tempfail = tempfail
        self.reject = {address.lower() for address in reject}
        self.count = max((int(name[:-4]) for name in os.listdir(directory)
                          if name.endswith(".eml") and name[:-4].isdigit()), default=0)
        self.refusing = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.tempfail > 0 or self.refusing:
            self.tempfail = max(0, self.tempfail - 1)
            return "451 4.3.0 try again later"
        self.count += 1
        path = os.path.join(self.directory, f"{self.count:04d}.eml")
        with open(path + ".tmp", "wb") as out:
            out.write(f"X-Sink-Rcpt: {','.join(envelope.rcpt_tos)}\r\n".encode())
            out.write(f"X-Sink-Auth: {bool(session.authenticated)}\r\n".encode())
            out.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 OK queued"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tempfail", type=int, default=0)
    parser.add_argument("--reject", action="append", default=[])
    parser.add_argument("--auth", default=None)
    # Tests stop the sink by closing its stdin; `make run` keeps it as a daemon instead.
    parser.add_argument("--daemon", action="store_true", help="ignore stdin; stop on SIGTERM only")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    kwargs = {}
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
            return AuthResult(success=ok)

        kwargs = {"authenticator": authenticator, "auth_required": True, "auth_require_tls": False}

    port = args.port
    if port == 0:
        import socket
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    handler = Handler(args.dir, args.tempfail, args.reject)
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    signal.signal(signal.SIGUSR1, lambda *_: setattr(handler, "refusing", True))
    signal.signal(signal.SIGUSR2, lambda *_: setattr(handler, "refusing", False))
    print(f"PORT {port}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if not args.daemon:
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
