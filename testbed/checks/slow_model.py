"""slow-model: the model phase is >70% of server time and the workers are
CPU-bound (they use all the CPU they are given)."""
import os

from lib import Demand, Result, Sampler, server_share, setup_from, workers_of, wrk


def check(bed, sc, work):
    res = Result()
    files, ctype, conc, dur = setup_from(sc, work)
    workers = workers_of(bed)
    with Sampler(workers) as s, Demand(workers) as d:
        r = wrk(bed["target"], files, ctype, connections=conc, duration=dur)
    share = server_share(r, "model")
    res.fig("rps", r["rps"])
    res.fig("p99_ms", r["p99_ms"])
    res.fig("model_ms", r["server_ms"]["model"])
    res.fig("server_ms", r["server_total_ms"])
    res.fig("model_share", share)
    res.fig("workers_cores", s.cores)
    demand = sum(v["demand"] for v in d.per_pid.values())
    ncpu = os.cpu_count() or 1
    res.fig("cpu_demand_cores", demand)
    res.fig("cpus", ncpu)
    res.expect(r["errors_total"] == 0 and r["requests"] >= 8, f"{r['requests']} requests, no errors")
    res.expect(share > 0.70, f"model phase {share:.0%} of server time > 70%")
    res.expect(demand > 0.9 * ncpu,
               f"workers CPU-bound: on a CPU or runnable {demand:.2f} cores' worth >= 90% of {ncpu} CPUs")
    return res
