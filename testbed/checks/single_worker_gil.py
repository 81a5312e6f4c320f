"""single-worker-gil: one process, many threads, never more than one core;
adding concurrency only adds waiting."""
from lib import Demand, Result, Sampler, setup_from, workers_of, wrk


def check(bed, sc, work):
    res = Result()
    files, ctype, conc, dur = setup_from(sc, work)
    workers = workers_of(bed)
    r1 = wrk(bed["target"], files, ctype, connections=1, duration=2)
    with Sampler(workers) as s, Demand(workers) as d:
        r8 = wrk(bed["target"], files, ctype, connections=conc, duration=dur)
    busy_threads = sum(1 for p in s.threads_busy.values() for t, c in p.items() if c > 0.05)
    scaling = r8["rps"] / max(1e-6, r1["rps"])
    res.fig("workers", len(workers))
    res.fig("rps_c1", r1["rps"])
    res.fig(f"rps_c{conc}", r8["rps"])
    res.fig("rps_scaling", scaling)
    res.fig("p50_ms_c1", r1["p50_ms"])
    res.fig(f"p50_ms_c{conc}", r8["p50_ms"])
    res.fig("preprocess_ms_c1", r1["server_ms"]["preprocess"])
    res.fig(f"preprocess_ms_c{conc}", r8["server_ms"]["preprocess"])
    res.fig("process_cores", s.cores)
    res.fig("threads_on_cpu", busy_threads)
    res.expect(len(workers) == 1, "a single worker process")
    res.expect(r8["errors_total"] == 0 and r8["requests"] >= 10, f"{r8['requests']} requests, no errors")
    res.expect(s.cores < 1.1, f"the worker never exceeds one core ({s.cores:.2f} cores)")
    res.expect(busy_threads >= 2, f"{busy_threads} threads shared that one core")
    res.expect(scaling < 1.4, f"{conc}x concurrency gave {scaling:.2f}x throughput (<1.4x)")
    res.expect(r8["p50_ms"] > 3 * r1["p50_ms"],
               f"p50 grew {r8['p50_ms'] / max(1e-6, r1['p50_ms']):.1f}x with concurrency (>3x)")
    return res
