"""heavy-preprocessing: preprocessing dominates server time and grows with
input pixels; the workers are CPU-bound."""
import os

from lib import Demand, Result, Sampler, server_share, setup_from, workers_of, wrk


def check(bed, sc, work):
    res = Result()
    files, ctype, conc, dur = setup_from(sc, work)
    workers = workers_of(bed)
    with Sampler(workers) as s, Demand(workers) as d:
        r = wrk(bed["target"], files, ctype, connections=conc, duration=dur)
    share = server_share(r, "preprocess")
    small_files, small_ct, _, _ = setup_from(sc, work + "/small", spec="image:w=256..256,format=jpeg", count=1)
    rs = wrk(bed["target"], small_files, small_ct, connections=2, duration=2)
    growth = r["server_ms"]["preprocess"] / max(1e-6, rs["server_ms"]["preprocess"])
    res.fig("rps", r["rps"])
    res.fig("p99_ms", r["p99_ms"])
    res.fig("preprocess_ms", r["server_ms"]["preprocess"])
    res.fig("model_ms", r["server_ms"]["model"])
    res.fig("preprocess_share", share)
    res.fig("preprocess_ms_256px", rs["server_ms"]["preprocess"])
    res.fig("large_vs_small", growth)
    res.fig("workers_cores", s.cores)
    demand = sum(v["demand"] for v in d.per_pid.values())
    ncpu = os.cpu_count() or 1
    res.fig("cpu_demand_cores", demand)
    res.fig("cpus", ncpu)
    res.expect(r["errors_total"] == 0 and r["requests"] >= 8, f"{r['requests']} requests, no errors")
    res.expect(share > 0.70, f"preprocess phase {share:.0%} of server time > 70%")
    res.expect(growth > 3, f"preprocessing of large images {growth:.1f}x that of 256 px images (>3x)")
    res.expect(demand > 0.9 * ncpu,
               f"workers CPU-bound: on a CPU or runnable {demand:.2f} cores' worth >= 90% of {ncpu} CPUs")
    return res
