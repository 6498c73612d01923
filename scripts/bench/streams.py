"""Abandoned live streams, as issue 22 describes them: opens STREAMS `/live/{campaign}/{area}/stream`
connections to a running node, spread over the given areas, holds them, then closes them all at
once (a killed script, closed tabs) and watches `/healthz` until the node has let them go. The
node's CPU is read from /proc/PID/stat: while idle before, while the streams are held, and over
the 30 s after their release. Prints one line per figure. Standard library only.

    python3 streams.py BASE_URL CAMPAIGN_ID AREAS_FILE NODE_PID [STREAMS] [HOLD_SECS]
"""

import json
import os
import selectors
import socket
import sys
import time
import urllib.request

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        # The command name may hold spaces; the fields after its closing parenthesis are fixed.
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def cpu_share(pid, seconds):
    """The node's CPU over `seconds`, as a share of one core."""
    before, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.monotonic() - t0)


def health(base):
    with urllib.request.urlopen(base + "/healthz", timeout=5) as answer:
        body = json.load(answer)
    return body.get("live_streams"), body.get("live_feeds")


def open_streams(host, port, paths):
    """Connects and sends every request, then reads until each has its status line and headers.
    Returns the sockets answered 200 and the count of other answers."""
    selector = selectors.DefaultSelector()
    pending = {}
    for path in paths:
        s = socket.create_connection((host, port))
        request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n"
        s.sendall(request.encode())
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ)
        pending[s] = b""
    held, refused, statuses = [], 0, {}
    deadline = time.monotonic() + 120
    while pending and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=1):
            s = key.fileobj
            try:
                chunk = s.recv(4096)
            except BlockingIOError:
                continue
            pending[s] += chunk
            if b"\r\n\r\n" in pending[s] or not chunk:
                status = pending[s].split(b" ", 2)[1:2]
                status = status[0].decode() if status else "closed"
                statuses[status] = statuses.get(status, 0) + 1
                selector.unregister(s)
                del pending[s]
                if status == "200":
                    held.append(s)
                else:
                    refused += 1
                    s.close()
    for s in pending:
        s.close()
    return held, refused + len(pending), statuses


def main():
    base, campaign, areas_file, pid = sys.argv[1:5]
    streams = int(sys.argv[5]) if len(sys.argv) > 5 else 2000
    hold = float(sys.argv[6]) if len(sys.argv) > 6 else 30
    pid = int(pid)
    host, port = base.removeprefix("http://").rsplit(":", 1)
    areas = [a.strip() for a in open(areas_file) if a.strip()]
    paths = [f"/live/{campaign}/{areas[i % len(areas)]}/stream" for i in range(streams)]

    print(f"idle node before: {cpu_share(pid, 10) * 100:.1f}% of a core (10 s)")
    t0 = time.monotonic()
    held, refused, statuses = open_streams(host, int(port), paths)
    print(
        f"opened: {len(held)} streams answered 200 in {time.monotonic() - t0:.1f} s, "
        f"{refused} not (status counts {statuses}), over {min(streams, len(areas))} areas"
    )
    print(f"node holds (live_streams, live_feeds) = {health(base)}")
    print(f"while held: {cpu_share(pid, hold) * 100:.1f}% of a core ({hold:.0f} s)")

    for s in held:
        s.close()
    dropped = time.monotonic()
    released = None
    while time.monotonic() - dropped < 120:
        streams_now, feeds_now = health(base)
        if streams_now == 0 and feeds_now == 0:
            released = time.monotonic() - dropped
            break
        time.sleep(0.25)
    if released is None:
        print(f"NOT released within 120 s: (live_streams, live_feeds) = {health(base)}")
        sys.exit(1)
    print(f"released: live_streams and live_feeds 0 after {released:.1f} s")
    print(f"idle node after: {cpu_share(pid, 30) * 100:.1f}% of a core (30 s)")


if __name__ == "__main__":
    main()
