"""starved-proxy: nginx's cgroup is throttled, and the proxy path is much
slower than the service reached directly with the same load.
`check_args`: `min_throttled_share` (0.5 of periods), `max_rps_ratio` (0.5: rate via
the proxy / direct), `min_latency_ratio` (2: mean latency via the proxy / direct),
`max_server_share` (0.2 of the latency via the proxy)."""
from lib import Result, cgroup_stat, setup_from, wrk


def check(bed, sc, work):
    res = Result()
    args = sc.get("check_args") or {}
    min_thr = float(args.get("min_throttled_share", 0.5))
    max_rps = float(args.get("max_rps_ratio", 0.5))
    min_lat = float(args.get("min_latency_ratio", 2))
    max_srv = float(args.get("max_server_share", 0.2))
    files, ctype, conc, dur = setup_from(sc, work)
    cg = bed["proxy"]["cgroup"]
    res.expect(bool(cg), "proxy runs in a cgroup of its own")
    direct = wrk(bed["service"]["url"] + "/predict", files, ctype, connections=conc, duration=dur)
    st0 = cgroup_stat(cg)
    via = wrk(bed["target"], files, ctype, connections=conc, duration=dur)
    st1 = cgroup_stat(cg)
    thr = st1["nr_throttled"] - st0["nr_throttled"]
    periods = st1["nr_periods"] - st0["nr_periods"]
    res.fig("cgroup_version", st1["version"])
    res.fig("nr_throttled", thr)
    res.fig("throttled_periods_share", thr / max(1, periods))
    res.fig("throttled_ms", (st1.get("throttled_usec", 0) - st0.get("throttled_usec", 0)) / 1e3)
    res.fig("direct_rps", direct["rps"])
    res.fig("proxy_rps", via["rps"])
    res.fig("direct_p99_ms", direct["p99_ms"])
    res.fig("proxy_p99_ms", via["p99_ms"])
    res.fig("proxy_server_ms", via["server_total_ms"])
    res.expect(thr > 0, f"proxy cgroup throttled in {thr} periods")
    res.fig("direct_p50_ms", direct["p50_ms"])
    res.fig("proxy_p50_ms", via["p50_ms"])
    res.expect(thr / max(1, periods) > min_thr, f"throttled in more than {min_thr:.0%} of periods")
    res.expect(via["rps"] < max_rps * direct["rps"],
               f"rate via proxy {via['rps']:.0f}/s < {max_rps:g}x direct {direct['rps']:.0f}/s")
    res.fig("direct_mean_ms", direct["mean_ms"])
    res.fig("proxy_mean_ms", via["mean_ms"])
    res.expect(via["mean_ms"] > min_lat * direct["mean_ms"],
               f"mean latency via proxy {via['mean_ms']:.1f} ms > {min_lat:g}x direct {direct['mean_ms']:.1f} ms")
    res.expect(via["server_total_ms"] < max_srv * via["mean_ms"],
               f"service time {via['server_total_ms']:.1f} ms is <{max_srv:.0%} of latency {via['mean_ms']:.1f} ms")
    return res
