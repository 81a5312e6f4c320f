"""starved-loadgen: the same wrk, run through `bed run` in the scenario's
throttled cgroup, reports far worse latency and rate than unstarved, while
the service answers as fast as before."""
import json
import os

from lib import BED, Result, setup_from, wrk


def check(bed, sc, work):
    res = Result()
    files, ctype, conc, dur = setup_from(sc, work)
    lg = bed["load_generator"]
    res.expect(bool(lg.get("cgroup")), "load-generator cgroup exists")
    free = wrk(bed["target"], files, ctype, connections=conc, duration=dur)
    stat_file = os.path.join(work, "run-stat.json")
    starved = wrk(bed["target"], files, ctype, connections=conc, duration=dur,
                  wrapper=[BED, "run", "--stat-json", stat_file, "--"])
    st = json.load(open(stat_file))
    delta = st["cpu_stat_delta"]
    res.fig("cgroup_version", st["cgroup_version"])
    res.fig("cpu_quota_cores", st["cpu_quota_cores"])
    res.fig("nr_throttled", delta.get("nr_throttled"))
    res.fig("cpu_cores_used", st.get("cpu_cores_used"))
    res.fig("free_rps", free["rps"])
    res.fig("starved_rps", starved["rps"])
    res.fig("free_p99_ms", free["p99_ms"])
    res.fig("starved_p99_ms", starved["p99_ms"])
    res.fig("free_server_ms", free["server_total_ms"])
    res.fig("starved_server_ms", starved["server_total_ms"])
    res.expect(delta.get("nr_throttled", 0) > 0, f"load generator throttled {delta.get('nr_throttled')} times")
    res.fig("free_p50_ms", free["p50_ms"])
    res.fig("starved_p50_ms", starved["p50_ms"])
    res.fig("free_mean_ms", free["mean_ms"])
    res.fig("starved_mean_ms", starved["mean_ms"])
    res.expect(starved["rps"] < 0.5 * free["rps"],
               f"starved rate {starved['rps']:.0f}/s < half of unstarved {free['rps']:.0f}/s")
    res.expect(starved["mean_ms"] > 2 * free["mean_ms"],
               f"starved mean latency {starved['mean_ms']:.1f} ms > 2x unstarved {free['mean_ms']:.1f} ms")
    res.expect(starved["server_total_ms"] < 3 * free["server_total_ms"] + 2,
               "service time unchanged: the service is not the culprit")
    return res
