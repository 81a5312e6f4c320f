"""heavy-preprocessing (and its mild, gthread and untimed variants):
preprocessing dominates server time and grows with input pixels; the workers
are CPU-bound.

Phase times come from Server-Timing (renamed phases mapped with the tool's
default names) or, without it, from the service's own timing log.
`check_args`: `min_share` (0.70), `min_growth` (3: preprocessing of the
scenario's images vs 256 px ones), `min_demand` (0.9)."""
import os
import time

from lib import Demand, Result, Sampler, server_phases, setup_from, shares, workers_of, wrk


def check(bed, sc, work):
    res = Result()
    args = sc.get("check_args") or {}
    min_share = float(args.get("min_share", 0.70))
    min_growth = float(args.get("min_growth", 3))
    min_demand = float(args.get("min_demand", 0.9))
    files, ctype, conc, dur = setup_from(sc, work)
    workers = workers_of(bed)
    t0 = time.time()
    with Sampler(workers) as s, Demand(workers) as d:
        r = wrk(bed["target"], files, ctype, connections=conc, duration=dur)
    ms, source = server_phases(bed, r, t0, res)
    share = shares(ms)["preprocess"]
    small_files, small_ct, _, _ = setup_from(sc, work + "/small", spec="image:w=256..256,format=jpeg", count=1)
    t1 = time.time()
    rs = wrk(bed["target"], small_files, small_ct, connections=2, duration=2)
    ms_small, _ = server_phases(bed, rs, t1)
    growth = ms["preprocess"] / max(1e-6, ms_small["preprocess"])
    res.fig("rps", r["rps"])
    res.fig("p99_ms", r["p99_ms"])
    res.fig("phase_source", source)
    res.fig("preprocess_ms", ms["preprocess"])
    res.fig("model_ms", ms["model"])
    res.fig("preprocess_share", share)
    res.fig("preprocess_ms_256px", ms_small["preprocess"])
    res.fig("large_vs_small", growth)
    res.fig("workers_cores", s.cores)
    demand = sum(v["demand"] for v in d.per_pid.values())
    ncpu = os.cpu_count() or 1
    res.fig("cpu_demand_cores", demand)
    res.fig("cpus", ncpu)
    res.expect(r["errors_total"] == 0 and r["requests"] >= 8, f"{r['requests']} requests, no errors")
    res.expect(share > min_share, f"preprocess phase {share:.0%} of server time > {min_share:.0%}")
    res.expect(growth > min_growth,
               f"preprocessing of large images {growth:.1f}x that of 256 px images (>{min_growth:g}x)")
    res.expect(demand > min_demand * ncpu,
               f"workers CPU-bound: on a CPU or runnable {demand:.2f} cores' worth >= "
               f"{min_demand:.0%} of {ncpu} CPUs")
    return res
