#!/usr/bin/env python3
"""Time from exec to the first 200 from GET /readyz, for a server command.

    ready.py HOST:PORT RUNS -- COMMAND [ARGS...]

Starts COMMAND (environment inherited) RUNS times; each time polls /readyz over a raw socket
every 0.5 ms from the moment of exec, records the elapsed time, then stops the server with
SIGTERM and waits for it. Prints JSON: {"runs_ms": [...], "median_ms": x, "max_ms": y}.
"""

import json
import signal
import socket
import statistics
import subprocess
import sys
import time


def ready(host, port):
    try:
        with socket.create_connection((host, port), timeout=0.5) as s:
            s.sendall(b"GET /readyz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
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
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not ready(host, int(port)):
            if proc.poll() is not None:
                sys.exit(f"ready.py: server exited with {proc.returncode} before it was ready")
            if time.perf_counter() - t0 > 30:
                proc.kill()
                sys.exit("ready.py: not ready within 30 s")
            time.sleep(0.0005)
        times.append((time.perf_counter() - t0) * 1000)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    print(json.dumps({"runs_ms": [round(t, 1) for t in times],
                      "median_ms": round(statistics.median(times), 1),
                      "max_ms": round(max(times), 1)}))


if __name__ == "__main__":
    main()
