"""slow-model (and its mild, Flask and untimed variants): the model phase
dominates server time and the workers are CPU-bound (they use all the CPU
they are given).

Phase times come from the Server-Timing headers wrk saw (mapped to segments
with the tool's default names, so renamed phases count too), or, for a
service that sends no Server-Timing, from the service's own timing log over
the same interval. `check_args` in the scenario: `min_share` (0.70),
`min_demand` (0.9, share of the machine's CPUs the workers want)."""
import os
import time

from lib import Demand, Result, Sampler, server_phases, setup_from, shares, workers_of, wrk


def check(bed, sc, work):
    res = Result()
    args = sc.get("check_args") or {}
    min_share = float(args.get("min_share", 0.70))
    min_demand = float(args.get("min_demand", 0.9))
    files, ctype, conc, dur = setup_from(sc, work)
    workers = workers_of(bed)
    t0 = time.time()
    with Sampler(workers) as s, Demand(workers) as d:
        r = wrk(bed["target"], files, ctype, connections=conc, duration=dur)
    ms, source = server_phases(bed, r, t0, res)
    share = shares(ms)["model"]
    res.fig("rps", r["rps"])
    res.fig("p99_ms", r["p99_ms"])
    res.fig("phase_source", source)
    res.fig("model_ms", ms["model"])
    res.fig("server_ms", sum(ms.values()))
    res.fig("model_share", share)
    res.fig("workers_cores", s.cores)
    demand = sum(v["demand"] for v in d.per_pid.values())
    ncpu = os.cpu_count() or 1
    res.fig("cpu_demand_cores", demand)
    res.fig("cpus", ncpu)
    res.expect(r["errors_total"] == 0 and r["requests"] >= 8, f"{r['requests']} requests, no errors")
    res.expect(share > min_share, f"model phase {share:.0%} of server time > {min_share:.0%}")
    res.expect(demand > min_demand * ncpu,
               f"workers CPU-bound: on a CPU or runnable {demand:.2f} cores' worth >= "
               f"{min_demand:.0%} of {ncpu} CPUs")
    return res
