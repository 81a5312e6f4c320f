"""worker-timeout: one request in N stalls longer than gunicorn's worker timeout:
it fails after about the timeout (the master aborts the worker, whose SystemExit
gunicorn answers with a 500, or nginx with a 502 when the connection just
closes), the worker that held it is gone (gunicorn logs WORKER TIMEOUT) and a
new one takes its place; the other requests are fast."""
import time

from lib import Result, make_payloads, post, workers_of


def check(bed, sc, work):
    res = Result()
    svc = sc["service"]
    timeout = float(svc["worker_timeout"])
    files, ctype = make_payloads(sc["payload"], work, count=1)
    url = bed["target"]
    with open(bed["service"]["log"], "rb") as f:
        log_start = len(f.read())
    before = set(workers_of(bed))
    fast, killed = [], []
    for _ in range(int(svc["stall_every"]) * 6):
        t0 = time.time()
        st, _ = post(url, files[0], ctype, timeout=60)
        took = time.time() - t0
        if st == 200:
            fast.append(took)
        else:
            killed.append((st, took))
            break
    res.fig("fast_requests", len(fast))
    res.fig("fast_p50_ms", sorted(fast)[len(fast) // 2] * 1000 if fast else None)
    res.expect(bool(killed), "a request stalled past the worker timeout")
    if killed:
        st, took = killed[0]
        res.fig("killed_status", st)
        res.fig("killed_after_s", took)
        res.expect(st in (500, 502), f"it failed with a 5xx (got {st})")
        res.expect(timeout <= took < timeout + 5, f"after about the {timeout:.0f} s timeout ({took:.1f} s)")
    deadline = time.time() + 15
    after = set(workers_of(bed))
    while time.time() < deadline and not (before - after and after - before):
        time.sleep(0.2)
        after = set(workers_of(bed))
    res.expect(bool(before - after) and bool(after - before), "the worker was replaced by a new PID")
    with open(bed["service"]["log"], "rb") as f:
        log = f.read()[log_start:].decode(errors="replace")
    res.fig("worker_timeout_logged", "WORKER TIMEOUT" in log)
    res.expect("WORKER TIMEOUT" in log, "gunicorn logged WORKER TIMEOUT")
    return res
