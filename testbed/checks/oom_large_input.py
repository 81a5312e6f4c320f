"""oom-large-input: a small image is answered; an image far above the memory
headroom takes a worker over the cgroup's limit: the kernel counts an OOM kill
in the service's memory cgroup, the worker's PID is gone, gunicorn forks a new
one, and nginx answers 502 for the request it held."""
import time

import cgroups
from lib import Result, make_payloads, pixels_of, post, workers_of


def check(bed, sc, work):
    res = Result()
    mem = bed["service"]["memory_cgroup"]
    rec = {"paths": [mem["path"]], "version": mem["version"]}
    res.fig("memory_limit_mb", mem["limit_bytes"] / 1e6)
    res.fig("resting_mb", mem["resting_bytes"] / 1e6)
    url = bed["target"]
    small, ctype = make_payloads("image:w=1024..1024,format=jpeg", work + "/small", count=1)
    big, _ = make_payloads("image:w=6400..6400,format=jpeg", work + "/big", count=1)
    st, _ = post(url, small[0], ctype)
    res.expect(st == 200, f"a 1 Mpx image is answered (status {st})")
    before = set(workers_of(bed))
    kills0 = cgroups.oom_kills(rec)
    st, _ = post(url, big[0], ctype, timeout=60)
    res.fig("large_input_mpx", pixels_of(big[0]) / 1e6)
    res.fig("large_input_status", st)
    kills = cgroups.oom_kills(rec) - kills0
    res.fig("oom_kills", kills)
    res.expect(kills >= 1, f"the kernel OOM-killed in the service's cgroup (memory.oom_control/events oom_kill +{kills})")
    res.expect(st == 502, f"nginx answered 502 for the request the killed worker held (got {st})")
    deadline = time.time() + 15
    after = set(workers_of(bed))
    while time.time() < deadline and (len(after) < len(before) or not (after - before)):
        time.sleep(0.2)
        after = set(workers_of(bed))
    res.fig("workers_gone", len(before - after))
    res.fig("workers_new", len(after - before))
    res.expect(len(before - after) >= 1, "a worker PID is gone")
    res.expect(len(after - before) >= 1, "gunicorn forked a new worker")
    st, _ = post(url, small[0], ctype)
    res.expect(st == 200, f"small images are answered again afterwards (status {st})")
    return res
