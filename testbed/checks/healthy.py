"""healthy: light load is fast, every phase is reported, the proxy reuses
upstream connections, X-Request-Id goes through, oversize input gets 413.
Also measures the Server-Timing phase shares at this light load: on the ramp path
the healthy service is driven to its knee, where its CPU saturates, and the phase
that dominates its own work is the culprit a diagnosis must name there; the
scenario's `expect.ramp` must be that phase."""
import os
import time
import urllib.request

from lib import Result, nginx_log, post, setup_from, shares, wrk

CULPRIT_OF = {"preprocess": "preprocessing", "model": "model", "postprocess": "postprocessing",
              "queue": "server"}


def check(bed, sc, work):
    res = Result()
    files, ctype, conc, dur = setup_from(sc, work)
    t0 = time.time()
    r = wrk(bed["target"], files, ctype, connections=conc, duration=dur)
    res.fig("rps", r["rps"])
    res.fig("p50_ms", r["p50_ms"])
    res.fig("p99_ms", r["p99_ms"])
    res.fig("server_ms", r["server_total_ms"])
    res.expect(r["requests"] > 20 and r["errors_total"] == 0 and r["status"]["5xx"] == 0,
               f"{r['requests']} requests without errors")
    res.expect(r["p99_ms"] < 100, f"p99 {r['p99_ms']:.1f} ms < 100 ms at light load")
    sh = shares(r["server_ms"])
    for k, v in sh.items():
        res.fig(f"{k}_share", v)
    top = max(sh, key=sh.get)
    res.fig("dominant_phase", top)
    want = (sc.get("expect") or {}).get("ramp")
    if want:
        res.expect(CULPRIT_OF[top] == want and sh[top] > 0.5,
                   f"{top} dominates the service's work ({sh[top]:.0%}): expect.ramp {want!r} "
                   f"should be {CULPRIT_OF[top]!r}")
    res.expect(r["server_timing"]["n"] == r["requests"],
               "Server-Timing on every response")
    # proxy keeps upstream connections: few connects, logs carry the timings
    rows = [x for x in nginx_log(bed["proxy"]["access_log"], since=t0) if x["status"] == 200]
    new_conns = len({x["upstream_addr"] for x in rows})
    res.fig("nginx_rows", len(rows))
    res.expect(len(rows) >= r["requests"] * 0.9, "nginx logged the requests")
    res.expect(all(x["upstream_header_time"] is not None for x in rows),
               "nginx logs request_time, upstream_connect_time, upstream_header_time")
    # X-Request-Id passes through the proxy both ways and lands in the log
    rid = f"bnk-check-{os.getpid()}-{int(time.time())}"
    req = urllib.request.Request(bed["target"], data=open(files[0], "rb").read(),
                                 headers={"Content-Type": ctype, "X-Request-Id": rid})
    with urllib.request.urlopen(req, timeout=10) as resp:
        echoed = resp.headers.get("X-Request-Id")
        st = resp.headers.get("Server-Timing", "")
    time.sleep(0.2)
    logged = [x for x in nginx_log(bed["proxy"]["access_log"]) if x.get("request_id") == rid]
    res.expect(echoed == rid and logged and rid, "X-Request-Id passed through proxy and logged")
    res.expect(all(p in st for p in ("queue;dur=", "preprocess;dur=", "model;dur=", "postprocess;dur=")),
               "Server-Timing has queue, preprocess, model, postprocess")
    # other input kinds
    for kind, body, ct in (("text", b"the quick brown fox jumps", "text/plain"),
                           ("json", b'{"tensor": [0.1, 0.2, 0.3]}', "application/json")):
        q = urllib.request.Request(bed["target"], data=body, headers={"Content-Type": ct})
        with urllib.request.urlopen(q, timeout=10) as resp:
            res.expect(resp.status == 200 and "model;dur=" in resp.headers.get("Server-Timing", ""),
                       f"{kind} input answered")
    # 413 above max_input_bytes (same Server-Timing header)
    limit = int(sc["service"].get("max_input_bytes", 16 << 20))
    big = os.path.join(work, "too-big.bin")
    with open(big, "wb") as f:
        f.write(b"\xff" * (limit + 1024))
    status, headers = post(bed["target"], big, "image/jpeg")
    res.fig("oversize_status", status)
    res.expect(status == 413, f"input above {limit} bytes gets 413 (got {status})")
    return res
