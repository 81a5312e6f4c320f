#!/usr/bin/env python3
"""Load-engine benchmarks for `make bench` (issue: foundation and load engine).

1. Efficiency against wrk: nginx (1 worker pinned to CPU 1) serving a small file, the
   client pinned to CPU 0, 50 connections, DURATION s; wrk and `bottleneck load
   --concurrency 50` alternate RUNS times each. Client CPU per request (user+sys from the
   OS, via wait4) for both and the ratio. Must show: ratio <= 1.15 (goal <= 1.0).
2. Open-loop accuracy: 1k, 5k, 10k req/s for DURATION s each: achieved/target and
   schedule-lag p99. Must show: within 1% and lag p99 < 1 ms.
3. Memory: SOAK s at 5k req/s: peak RSS and RSS over time. Must show: < 150 MB, flat.

Usage: load_engine.py BOTTLENECK_BIN [--quick]
"""
import json, os, re, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.abspath(sys.argv[1])
QUICK = "--quick" in sys.argv
DURATION = 4 if QUICK else 10
RUNS = 1 if QUICK else 3
SOAK = 30 if QUICK else 180
PORT = 18490

def measured(cmd, sample=0.0):
    env = dict(os.environ)
    fd, out_path = tempfile.mkstemp(prefix="bench-out-")
    os.close(fd)
    env["BENCH_STDOUT"] = out_path
    args = [sys.executable, os.path.join(HERE, "run_measured.py")]
    if sample:
        args += ["--sample", str(sample)]
    res = subprocess.run(args + ["--"] + cmd, env=env, capture_output=True, text=True, check=True)
    stats = json.loads(res.stdout.strip().splitlines()[-1])
    with open(out_path) as f:
        stats["stdout"] = f.read()
    os.unlink(out_path)
    return stats

def wrk_requests(text):
    m = re.search(r"(\d+) requests in", text)
    if not m:
        raise SystemExit("could not read wrk's request count:\n" + text)
    return int(m.group(1))

def bottleneck_summary(text):
    return json.loads(text)

def main():
    work = tempfile.mkdtemp(prefix="bottleneck-bench-")
    subprocess.run([os.path.join(ROOT, "scripts/local-nginx.sh"), work, str(PORT), "1"], check=True)
    url = f"http://127.0.0.1:{PORT}/small.txt"
    results = {}
    try:
        # 1. Efficiency against wrk.
        rows = []
        for i in range(RUNS):
            w = measured(["taskset", "-c", "0", "wrk", "-t1", "-c50", f"-d{DURATION}s", url])
            wn = wrk_requests(w["stdout"])
            b = measured(["taskset", "-c", "0", BIN, "load", "--target", url, "--concurrency", "50",
                          "--duration", f"{DURATION}s", "--json", "--out", os.path.join(work, f"eff-{i}")])
            s = bottleneck_summary(b["stdout"])["steps"][0]
            bn = s["completed"]
            wus = w["cpu_seconds"] / wn * 1e6
            bus = b["cpu_seconds"] / bn * 1e6
            rows.append((wn, wus, bn, bus))
            print(f"efficiency run {i+1}: wrk {wn} req {wus:.2f} us/req | bottleneck {bn} req {bus:.2f} us/req | ratio {bus/wus:.3f}", flush=True)
        w_total = sum(r[1] for r in rows) / len(rows)
        b_total = sum(r[3] for r in rows) / len(rows)
        ratio = b_total / w_total
        verdict = "PASS" if ratio <= 1.15 else "FAIL"
        print(f"EFFICIENCY: client CPU per request: wrk {w_total:.2f} us, bottleneck {b_total:.2f} us, ratio {ratio:.3f} (must be <= 1.15, goal <= 1.0): {verdict}", flush=True)
        results["efficiency"] = {"wrk_us_per_request": w_total, "bottleneck_us_per_request": b_total, "ratio": ratio, "pass": ratio <= 1.15}

        # 2. Open-loop accuracy.
        accuracy = []
        for rate in (1000, 5000, 10000):
            b = measured(["taskset", "-c", "0", BIN, "load", "--target", url, "--rate", str(rate),
                          "--duration", f"{DURATION}s", "--json", "--out", os.path.join(work, f"open-{rate}")])
            s = bottleneck_summary(b["stdout"])["steps"][0]
            ok = abs(s["achievedRatio"] - 1) <= 0.01 and s["scheduleLag"]["p99"] < 1.0
            accuracy.append({"rate": rate, "achieved_ratio": s["achievedRatio"], "lag_p99_ms": s["scheduleLag"]["p99"],
                             "latency_p99_ms": s["latency"]["p99"], "pass": ok})
            print(f"OPEN LOOP {rate} req/s: achieved/target {s['achievedRatio']:.4f}, schedule lag p99 {s['scheduleLag']['p99']:.3f} ms, "
                  f"latency p99 {s['latency']['p99']:.3f} ms, gen CPU {s['generatorCores']:.2f}/{s['allowedCores']}: {'PASS' if ok else 'FAIL'}", flush=True)
        results["open_loop"] = accuracy

        # 3. Memory over a long run.
        b = measured(["taskset", "-c", "0", BIN, "load", "--target", url, "--rate", "5000", "--duration", f"{SOAK}s",
                      "--json", "--out", os.path.join(work, "soak")], sample=5)
        samples = b["rss_samples"]
        peak = b["peak_rss_bytes"]
        early = max((r for t, r in samples if t <= SOAK / 6), default=0)
        late = max((r for t, r in samples if t >= SOAK * 5 / 6), default=0)
        growth = (late - early) / 1e6
        ok = peak < 150e6 and growth < 10
        print(f"MEMORY {SOAK}s at 5000 req/s: peak RSS {peak/1e6:.1f} MB; RSS in first sixth {early/1e6:.1f} MB, last sixth {late/1e6:.1f} MB "
              f"(growth {growth:.1f} MB): {'PASS' if ok else 'FAIL'}", flush=True)
        results["memory"] = {"peak_rss_mb": peak / 1e6, "early_mb": early / 1e6, "late_mb": late / 1e6, "pass": ok}
    finally:
        pid = open(os.path.join(work, "nginx.pid")).read().strip()
        subprocess.run(["kill", pid])
        time.sleep(0.2)
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(ROOT, "bench-out"), exist_ok=True)
    with open(os.path.join(ROOT, "bench-out", "load-engine.json"), "w") as f:
        json.dump(results, f, indent=2)

main()
