#!/usr/bin/env python3
"""Time from exec to the first 200 from GET /readyz, for a server command.

    ready.py HOST:PORT RUNS -- COMMAND [ARGS...]

Starts COMMAND (environment inherited) RUNS times; each time polls /readyz over a raw socket
every 0.5 ms from the moment of exec, records the elapsed time, then stops the server with
SIGTERM and waits for it. Prints JSON: {"runs_ms": [...], "median_ms": x, "max_ms": y}.
"""

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time


def ready(host, port):
    try:
        with socket.create_connection((host, port), timeout=0.5) as s:
            # A Host that Django's ALLOWED_HOSTS accepts, like every other request of the suite.
            s.sendall(f"GET /readyz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                      .encode())
            head = s.recv(64)
        return head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200")
    except OSError:
        return False


def main():
    addr, runs = sys.argv[1], int(sys.argv[2])
    cmd = sys.argv[sys.argv.index("--") + 1 :]
    host, port = addr.rsplit(":", 1)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        # A session of its own, so that stopping it also stops any worker processes (gunicorn).
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        while not ready(host, int(port)):
            if proc.poll() is not None:
                sys.exit(f"ready.py: server exited with {proc.returncode} before it was ready")
            if time.perf_counter() - t0 > 30:
                os.killpg(proc.pid, signal.SIGKILL)
                sys.exit("ready.py: not ready within 30 s")
            time.sleep(0.0005)
        times.append((time.perf_counter() - t0) * 1000)
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        # Let workers that outlive their master exit before the next start needs the port.
        for _ in range(300):
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.01)
    print(json.dumps({"runs_ms": [round(t, 1) for t in times],
                      "median_ms": round(statistics.median(times), 1),
                      "max_ms": round(max(times), 1)}))


if __name__ == "__main__":
    main()
