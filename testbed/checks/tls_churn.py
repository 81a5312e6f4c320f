"""tls-front-no-keepalive: nginx terminates TLS with client keep-alive off and a small CPU
quota, so every request pays a full handshake at a front that has little CPU for it.
Ground truth from nginx and the kernel: every request of a keep-alive client arrived on a
TLS connection of its own (`$connection_requests` 1, `$ssl_protocol` set, no session
reused), the proxy's cgroup was throttled, and the rate through the front is a fraction of
the service's straight.
`check_args`: `min_new_connection_share` (0.95 of requests on a connection's first request),
`max_rps_ratio` (0.5: rate through the front / direct)."""
import time

from lib import Result, cgroup_stat, nginx_log, setup_from, wrk


def check(bed, sc, work):
    res = Result()
    args = sc.get("check_args") or {}
    min_new = float(args.get("min_new_connection_share", 0.95))
    max_rps = float(args.get("max_rps_ratio", 0.5))
    files, ctype, conc, dur = setup_from(sc, work)
    prx = bed["proxy"]
    res.expect(bool(prx.get("tls")) and bed["target"].startswith("https://"), "the target is the TLS front")
    direct = wrk(bed["service"]["url"] + "/predict", files, ctype, connections=conc, duration=dur)
    cg = prx["cgroup"]
    st0 = cgroup_stat(cg)
    t0 = time.time()
    via = wrk(bed["target"], files, ctype, connections=conc, duration=dur)  # wrk keeps connections alive
    st1 = cgroup_stat(cg)
    rows = nginx_log(prx["access_log"], since=t0)
    first = sum(1 for x in rows if int(x.get("connection_requests") or 0) == 1)
    tls_rows = sum(1 for x in rows if x.get("ssl_protocol"))
    reused = sum(1 for x in rows if x.get("ssl_session_reused") == "r")
    throttled = st1["nr_throttled"] - st0["nr_throttled"]
    res.fig("requests_logged", len(rows))
    res.fig("new_connection_share", first / max(1, len(rows)))
    res.fig("tls_share", tls_rows / max(1, len(rows)))
    res.fig("sessions_reused", reused)
    res.fig("nr_throttled", throttled)
    res.fig("direct_rps", direct["rps"])
    res.fig("tls_front_rps", via["rps"])
    res.fig("tls_front_p50_ms", via["p50_ms"])
    res.expect(len(rows) > 20, f"{len(rows)} requests in nginx's log")
    res.expect(tls_rows == len(rows), f"{tls_rows} of {len(rows)} requests over TLS")
    res.expect(first >= min_new * len(rows), f"{first} of {len(rows)} requests were their connection's first (keep-alive off at the front)")
    res.expect(throttled > 0, f"proxy cgroup throttled in {throttled} periods")
    res.expect(via["rps"] < max_rps * direct["rps"], f"rate through the TLS front {via['rps']:.0f}/s < {max_rps:g}x direct {direct['rps']:.0f}/s")
    return res
