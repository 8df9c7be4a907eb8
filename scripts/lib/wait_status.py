"""Waits until every `wardgate serve` status socket given reports a value, and prints the
milliseconds from --since (time.time_ns() of the edit) to the moment the last one did.

  wait_status.py --since NS --key controller.applied_version --equals 2 SOCKET...
  wait_status.py --since NS --key last_reload.version --not-equals OLD SOCKET...

With --print-at instead of --since it prints time.time_ns() of that moment: a benchmark starts
the waiter before the edit, so that starting Python does not take the processor from the
services while they work on it.
"""
import argparse
import json
import socket
import sys
import time


def status(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(b'{"request":"status"}\n')
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data)


def value(j, key):
    for part in key.split("."):
        if not isinstance(j, dict):
            return None
        j = j.get(part)
    return j


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--since", type=int)
    ap.add_argument("--print-at", action="store_true", help="print time.time_ns() when every socket reported it")
    ap.add_argument("--key", required=True)
    ap.add_argument("--equals")
    ap.add_argument("--not-equals")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--print-value", action="store_true", help="print the value of the first socket and exit")
    ap.add_argument("sockets", nargs="+")
    a = ap.parse_args()
    if a.print_value:
        print(value(status(a.sockets[0]), a.key))
        return 0
    pending = set(a.sockets)
    deadline = time.monotonic() + a.timeout
    while pending:
        for path in sorted(pending):
            try:
                v = str(value(status(path), a.key))
            except OSError:
                continue
            if (a.equals is not None and v == a.equals) or (a.not_equals is not None and v != a.not_equals):
                pending.discard(path)
        if pending:
            if time.monotonic() > deadline:
                print(f"timed out waiting for {a.key} on {sorted(pending)}", file=sys.stderr)
                return 1
            time.sleep(0.005)
    if a.print_at:
        print(time.time_ns())
    else:
        print(f"{(time.time_ns() - a.since) / 1e6:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
