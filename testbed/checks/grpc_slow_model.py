"""grpc-slow-model: the slow model behind the KServe v2 gRPC API. Ground truth from the
service's own ModelStatistics over the same interval (gRPC carries no Server-Timing): the model
(compute_infer) is most of each inference's work, and the workers are CPU-bound. Load is h2load
posting the bed's ModelInferRequest. `check_args`: `min_share` (0.70), `min_demand` (0.9)."""
import os

from lib import Demand, Result, Sampler, grpc_model_statistics, h2load, make_payloads, workers_of


def check(bed, sc, work):
    res = Result()
    args = sc.get("check_args") or {}
    min_share = float(args.get("min_share", 0.70))
    min_demand = float(args.get("min_demand", 0.9))
    files, _ = make_payloads(sc["payload"], os.path.join(work, "payloads"))
    load = sc.get("load") or {}
    conc = int(load.get("concurrency", 4))
    workers = workers_of(bed)
    before = grpc_model_statistics(bed["target"])
    with Sampler(workers) as s, Demand(workers) as d:
        r = h2load(bed["target"], files, connections=conc, duration=3)
    after = grpc_model_statistics(bed["target"])
    n = max(1, after["count"] - before["count"])
    ms = {k: (after[k] - before[k]) / n for k in ("queue", "preprocess", "model", "postprocess")}
    work_ms = ms["preprocess"] + ms["model"] + ms["postprocess"]
    share = ms["model"] / work_ms if work_ms > 0 else 0.0
    res.fig("rps", r["rps"])
    res.fig("phase_source", "model-statistics")
    res.fig("inferences", n)
    res.fig("model_ms", ms["model"])
    res.fig("queue_ms", ms["queue"])
    res.fig("model_share", share)
    res.fig("workers_cores", s.cores)
    demand = sum(v["demand"] for v in d.per_pid.values())
    ncpu = os.cpu_count() or 1
    res.fig("cpu_demand_cores", demand)
    res.expect(r["errors"] == 0 and r["ok"] >= 8, f"{r['ok']} calls answered, {r['errors']} failed")
    res.expect(n >= 0.9 * r["ok"], f"the server counted {n} inferences for {r['ok']} calls")
    res.expect(share > min_share, f"model {share:.0%} of each inference's work > {min_share:.0%}")
    res.expect(demand > min_demand * ncpu,
               f"workers CPU-bound: on a CPU or runnable {demand:.2f} cores' worth >= {min_demand:.0%} of {ncpu} CPUs")
    return res
