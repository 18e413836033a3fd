#!/usr/bin/env python3
"""Latency of library requests for bench/list.sh: ROUNDS sequential requests per path
over one keep-alive connection (after 20 warm-up requests), as JSON lines with p50 and
p99 in milliseconds, each with LABEL (the engine).

    list_measure.py LABEL http://127.0.0.1:PORT TOKEN ROUNDS PATH...

A path starting with `web:` is a page, sent with the session cookie instead of the
bearer token. Any answer but 200 is reported as its status, without figures.
"""
import http.client
import json
import sys
import time
import urllib.parse


def main():
    label, base, token, rounds, paths = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    for path in paths:
        web = path.startswith("web:")
        target = path[4:] if web else path
        headers = {"Cookie": f"dashvault_session={token}"} if web else {"Authorization": f"Bearer {token}"}

        def get():
            conn.request("GET", target, headers=headers)
            response = conn.getresponse()
            body = response.read()
            return response.status, body

        status, body = get()
        if status != 200:
            print(json.dumps({"engine": label, "path": path, "status": status}))
            continue
        items = None
        if not web:
            items = len(json.loads(body)["items"])
        for _ in range(20):
            get()
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            get()
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        print(json.dumps({
            "engine": label,
            "path": path,
            "status": 200,
            "items": items,
            "bytes": len(body),
            "p50_ms": round(times[len(times) // 2], 2),
            "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 2),
            "max_ms": round(times[-1], 2),
        }))


if __name__ == "__main__":
    main()
