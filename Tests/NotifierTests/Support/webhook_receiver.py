#!/usr/bin/env python3
"""A test webhook receiver on loopback that checks Standard Webhooks signatures.

    webhook_receiver.py --dir DIR --secret SECRET [--port 0] [--fail N]

Prints "PORT <n>" once listening; stops on SIGTERM or when stdin closes. A POST whose
webhook-signature is `v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>` (key: the base64 after
`whsec_`, or the secret's bytes) and whose timestamp is within 5 minutes is stored as
DIR/<n>.json ({"headers", "body"}) and answered 204; a repeated webhook-id is answered 204 and
not stored again (the receiver-side idempotency the notifier relies on). A bad signature is
answered 401 and stored in DIR/rejected-<n>.json. --fail N answers the first N valid posts 503.
--keep-repeats also stores each repeated webhook-id as DIR/repeat-<n>.json (the fault suite
counts resends). SIGUSR1 makes it answer every valid post 500 until SIGUSR2.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def key_of(secret):
    if secret.startswith("whsec_"):
        return base64.b64decode(secret[len("whsec_"):])
    return secret.encode()


def verify(secret, msg_id, timestamp, signature_header, body):
    try:
        if abs(time.time() - int(timestamp)) > 300:
            return False
    except ValueError:
        return False
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key_of(secret), signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, candidate) for candidate in signature_header.split(" "))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fail", type=int, default=0)
    parser.add_argument("--keep-repeats", action="store_true")
    # Tests stop the sink by closing its stdin; `make run` keeps it as a daemon instead.
    parser.add_argument("--daemon", action="store_true", help="ignore stdin; stop on SIGTERM only")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    state = {"count": 0, "rejected": 0, "repeats": 0, "fail": args.fail, "seen": set(), "failing": False}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            ok = verify(args.secret, headers.get("webhook-id", ""), headers.get("webhook-timestamp", ""),
                        headers.get("webhook-signature", ""), body)
            with lock:
                if not ok:
                    state["rejected"] += 1
                    path = os.path.join(args.dir, f"rejected-{state['rejected']:04d}.json")
                    status = 401
                elif state["fail"] > 0:
                    state["fail"] -= 1
                    path, status = None, 503
                elif state["failing"]:
                    path, status = None, 500
                elif headers.get("webhook-id") in state["seen"]:
                    path, status = None, 204
                    if args.keep_repeats:
                        state["repeats"] += 1
                        path = os.path.join(args.dir, f"repeat-{state['repeats']:04d}.json")
                else:
                    state["seen"].add(headers.get("webhook-id"))
                    state["count"] += 1
                    path = os.path.join(args.dir, f"{state['count']:04d}.json")
                    status = 204
                if path:
                    with open(path + ".tmp", "w") as out:
                        json.dump({"path": self.path, "headers": headers, "body": body.decode()}, out)
                    os.rename(path + ".tmp", path)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    signal.signal(signal.SIGUSR1, lambda *_: state.update(failing=True))
    signal.signal(signal.SIGUSR2, lambda *_: state.update(failing=False))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if not args.daemon:
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    stop.wait()
    server.shutdown()


if __name__ == "__main__":
    main()
