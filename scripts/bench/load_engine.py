#!/usr/bin/env python3
"""Load-engine benchmarks for `make bench` (issue: foundation and load engine).

1. Efficiency against wrk: nginx (1 worker pinned to CPU 1) serving a small file, the
   client pinned to CPU 0, 50 connections, DURATION s; wrk and `bottleneck load
   --concurrency 50` alternate RUNS times each. Client CPU per request (user+sys from the
   OS, via wait4) for both and the ratio. Must show: ratio <= 1.15 (goal <= 1.0).
2. Open-loop accuracy: 1k, 5k, 10k req/s for DURATION s each, RUNS times: achieved/target,
   schedule-lag p99 and the generator's CPU per request. Must show: within 1% and lag p99 < 1 ms
   in the median of the RUNS runs at each rate (every run's own verdict is printed too).
   Beside each run, on the same CPU and just before it, timer_reference.c sleeps to absolute
   deadlines at the same rate for the same time (clock_nanosleep TIMER_ABSTIME, timer slack 1 ns)
   and reports its own lateness: what this machine's timer wake-ups cost at that moment, the
   floor for any generator that sleeps between sends. It runs twice: with the scheduler's
   default slice, and with the 0.1 ms slice the open loop's event loops ask for (ThreadSlice).
   Our lag p99 is printed beside the references' p99 with the ratio to the first, so a busy or
   noisy machine shows up in all of them; each run also prints the time the hypervisor stole
   from CPU 0 meanwhile (/proc/stat), lateness no program on that CPU can avoid.
3. Memory: SOAK s at 5k req/s: peak RSS and RSS over time. Must show: < 150 MB, flat.
4. HTTPS efficiency against wrk: the same nginx over TLS (ECDSA P-256, TLS 1.3), the same 50
   keep-alive connections, client pinned to CPU 0; the certificate verified against the CA
   the script made (--cacert). Must show: ratio <= 1.3.
5. HTTP/2 efficiency against h2load (nghttp2-client): the same nginx on a cleartext HTTP/2 port
   (prior knowledge, h2c), 50 connections with 10 streams each (h2load -c50 -m10, bottleneck
   --http2 --streams 10 --concurrency 500), client pinned to CPU 0, alternating RUNS times.
   Must show: ratio <= 1.2.
6. gRPC unary efficiency against h2load as a gRPC client: the same nginx h2c port answers POSTs on
   /inference.GRPCInferenceService/ModelInfer with a framed ModelInferResponse and grpc-status 0 in
   its trailers (a gRPC endpoint as cheap as a static file, so both clients are what is measured).
   The reference is h2load (nghttp2, C) posting the same framed message with gRPC's headers
   (content-type application/grpc, te: trailers), 50 connections x 10 streams, beside `bottleneck
   load --target grpc://…/inference.GRPCInferenceService/ModelInfer --payload dir:… --streams 10
   --concurrency 500` (the tool frames the same message itself). A grpcio (Python) client would be
   a far slower bar. Must show: ratio <= 1.2.

Usage: load_engine.py BOTTLENECK_BIN [--quick] [--only efficiency|open-loop|memory|https|http2|grpc]... [--baseline OTHER_BIN]
  --baseline runs OTHER_BIN (e.g. a build of main) right after BOTTLENECK_BIN in every efficiency and
  open-loop run, so a change is judged against what it replaces under the same machine conditions.
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
TLS_PORT = 18491
H2C_PORT = 18492
SECTIONS = [sys.argv[i + 1] for i, a in enumerate(sys.argv[:-1]) if a == "--only"] or ["efficiency", "open-loop", "memory", "https", "http2", "grpc"]
BASELINE = next((os.path.abspath(sys.argv[i + 1]) for i, a in enumerate(sys.argv[:-1]) if a == "--baseline"), None)

def stolen_ms():
    """Time the hypervisor ran something else while CPU 0 (the generator's) had work: the
    steal column of /proc/stat, in ms (10 ms ticks). A timer cannot fire on a stolen CPU, so
    stolen time shows up as schedule lag in the generator and in the timer reference alike."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu0 "):
                return int(line.split()[8]) * 1000 / os.sysconf("SC_CLK_TCK")
    return 0.0

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

def build_reference(work):
    """Compiles timer_reference.c with the C compiler at hand (cc, or the Swift toolchain's clang)."""
    compiler = shutil.which("cc") or shutil.which("clang")
    if not compiler:
        raise SystemExit("no C compiler for scripts/bench/timer_reference.c (install gcc or put the Swift toolchain on PATH)")
    out = os.path.join(work, "timer_reference")
    subprocess.run([compiler, "-O2", "-o", out, os.path.join(HERE, "timer_reference.c")], check=True)
    return out

def reference(program, rate, seconds, *options):
    """The timer reference alone on CPU 0 (where the generator runs) at `rate` for `seconds`,
    with timer slack 1 ns (the event loops' timerfd ignores slack, so this is the fair floor)."""
    before = stolen_ms()
    res = subprocess.run(["taskset", "-c", "0", program, "--slack", "1", *options, str(rate), str(seconds)],
                         capture_output=True, text=True, check=True)
    result = json.loads(res.stdout)
    result["stolen_ms"] = stolen_ms() - before
    return result

def wrk_requests(text):
    m = re.search(r"(\d+) requests in", text)
    if not m:
        raise SystemExit("could not read wrk's request count:\n" + text)
    return int(m.group(1))

def bottleneck_summary(text):
    return json.loads(text)

def main():
    work = tempfile.mkdtemp(prefix="bottleneck-bench-")
    subprocess.run([os.path.join(ROOT, "scripts/local-nginx.sh"), work, str(PORT), "1", str(TLS_PORT), str(H2C_PORT)], check=True)
    url = f"http://127.0.0.1:{PORT}/small.txt"
    results = {}
    try:
        # 1. Efficiency against wrk.
        if "efficiency" in SECTIONS:
            rows = []
            for i in range(RUNS):
                w = measured(["taskset", "-c", "0", "wrk", "-t1", "-c50", f"-d{DURATION}s", url])
                wn = wrk_requests(w["stdout"])
                wus = w["cpu_seconds"] / wn * 1e6
                row = {"wrk": wus}
                line = f"efficiency run {i+1}: wrk {wn} req {wus:.2f} us/req"
                for label, binary in [("bottleneck", BIN)] + ([("baseline", BASELINE)] if BASELINE else []):
                    b = measured(["taskset", "-c", "0", binary, "load", "--target", url, "--concurrency", "50",
                                  "--duration", f"{DURATION}s", "--json", "--out", os.path.join(work, f"eff-{label}-{i}")])
                    bn = bottleneck_summary(b["stdout"])["steps"][0]["completed"]
                    row[label] = b["cpu_seconds"] / bn * 1e6
                    line += f" | {label} {bn} req {row[label]:.2f} us/req, ratio {row[label] / wus:.3f}"
                rows.append(row)
                print(line, flush=True)
            w_total = sum(r["wrk"] for r in rows) / len(rows)
            b_total = sum(r["bottleneck"] for r in rows) / len(rows)
            ratio = b_total / w_total
            verdict = "PASS" if ratio <= 1.15 else "FAIL"
            baseline = ""
            if BASELINE:
                base_total = sum(r["baseline"] for r in rows) / len(rows)
                baseline = f"; baseline {base_total:.2f} us, ratio {base_total / w_total:.3f}"
            print(f"EFFICIENCY: client CPU per request: wrk {w_total:.2f} us, bottleneck {b_total:.2f} us, ratio {ratio:.3f}{baseline} "
                  f"(must be <= 1.15, goal <= 1.0): {verdict}", flush=True)
            results["efficiency"] = {"wrk_us_per_request": w_total, "bottleneck_us_per_request": b_total, "ratio": ratio,
                                     "pass": ratio <= 1.15}

        # 4. HTTPS efficiency against wrk (keep-alive: the handshakes are 50 of the run's requests).
        if "https" in SECTIONS:
            tls_url = f"https://127.0.0.1:{TLS_PORT}/small.txt"
            ca = os.path.join(work, "tls", "ca.pem")
            rows = []
            for i in range(RUNS):
                w = measured(["taskset", "-c", "0", "wrk", "-t1", "-c50", f"-d{DURATION}s", tls_url])
                wn = wrk_requests(w["stdout"])
                b = measured(["taskset", "-c", "0", BIN, "load", "--target", tls_url, "--cacert", ca, "--concurrency", "50",
                              "--duration", f"{DURATION}s", "--json", "--out", os.path.join(work, f"tls-{i}")])
                step = bottleneck_summary(b["stdout"])["steps"][0]
                row = {"wrk": w["cpu_seconds"] / wn * 1e6, "bottleneck": b["cpu_seconds"] / step["completed"] * 1e6}
                rows.append(row)
                print(f"https run {i+1}: wrk {wn} req {row['wrk']:.2f} us/req | bottleneck {step['completed']} req "
                      f"{row['bottleneck']:.2f} us/req ({step.get('tlsHandshakes', 0)} handshakes), ratio {row['bottleneck'] / row['wrk']:.3f}", flush=True)
            w_total = sum(r["wrk"] for r in rows) / len(rows)
            b_total = sum(r["bottleneck"] for r in rows) / len(rows)
            ratio = b_total / w_total
            print(f"HTTPS EFFICIENCY: client CPU per request over TLS keep-alive: wrk {w_total:.2f} us, bottleneck {b_total:.2f} us, "
                  f"ratio {ratio:.3f} (must be <= 1.3): {'PASS' if ratio <= 1.3 else 'FAIL'}", flush=True)
            results["https_efficiency"] = {"wrk_us_per_request": w_total, "bottleneck_us_per_request": b_total, "ratio": ratio,
                                           "pass": ratio <= 1.3}

        # 5. HTTP/2 efficiency against h2load: same connections, same streams per connection.
        if "http2" in SECTIONS:
            h2_url = f"http://127.0.0.1:{H2C_PORT}/small.txt"
            rows = []
            for i in range(RUNS):
                h = measured(["taskset", "-c", "0", "h2load", "-c50", "-m10", "-t1", f"-D{DURATION}", h2_url])
                m = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", h["stdout"])
                if not m:
                    raise SystemExit("could not read h2load's request count:\n" + h["stdout"])
                hn = int(m.group(1))
                b = measured(["taskset", "-c", "0", BIN, "load", "--target", h2_url, "--http2", "--streams", "10",
                              "--concurrency", "500", "--duration", f"{DURATION}s", "--json", "--out", os.path.join(work, f"h2-{i}")])
                step = bottleneck_summary(b["stdout"])["steps"][0]
                row = {"h2load": h["cpu_seconds"] / hn * 1e6, "bottleneck": b["cpu_seconds"] / step["completed"] * 1e6}
                rows.append(row)
                figures = step.get("http2") or {}
                print(f"http2 run {i+1}: h2load {hn} req {row['h2load']:.2f} us/req | bottleneck {step['completed']} req "
                      f"{row['bottleneck']:.2f} us/req ({step.get('connectionsOpened', 0)} connections, up to "
                      f"{figures.get('streamsInFlightMax', 0)} streams in flight on one), ratio {row['bottleneck'] / row['h2load']:.3f}", flush=True)
            h_total = sum(r["h2load"] for r in rows) / len(rows)
            b_total = sum(r["bottleneck"] for r in rows) / len(rows)
            ratio = b_total / h_total
            print(f"HTTP/2 EFFICIENCY: client CPU per request, 50 connections x 10 streams (h2c): h2load {h_total:.2f} us, "
                  f"bottleneck {b_total:.2f} us, ratio {ratio:.3f} (must be <= 1.2): {'PASS' if ratio <= 1.2 else 'FAIL'}", flush=True)
            results["http2_efficiency"] = {"h2load_us_per_request": h_total, "bottleneck_us_per_request": b_total, "ratio": ratio,
                                           "pass": ratio <= 1.2}

        # 6. gRPC unary efficiency against h2load sending the same framed message with gRPC's headers.
        if "grpc" in SECTIONS:
            method = f"127.0.0.1:{H2C_PORT}/inference.GRPCInferenceService/ModelInfer"
            message = bytes([0x0A, 0x01, 0x6D])  # ModelInferRequest { model_name: "m" }
            messages = os.path.join(work, "grpc-messages")
            os.makedirs(messages, exist_ok=True)
            with open(os.path.join(messages, "infer.pb"), "wb") as f:
                f.write(message)
            framed = os.path.join(work, "grpc-framed.bin")
            with open(framed, "wb") as f:
                f.write(bytes([0, 0, 0, 0, len(message)]) + message)
            rows = []
            for i in range(RUNS):
                h = measured(["taskset", "-c", "0", "h2load", "-c50", "-m10", "-t1", f"-D{DURATION}", "-d", framed,
                              "-H", "content-type: application/grpc", "-H", "te: trailers", "http://" + method])
                m = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", h["stdout"])
                if not m:
                    raise SystemExit("could not read h2load's request count:\n" + h["stdout"])
                hn = int(m.group(1))
                b = measured(["taskset", "-c", "0", BIN, "load", "--target", "grpc://" + method, "--payload", f"dir:{messages}",
                              "--streams", "10", "--concurrency", "500", "--duration", f"{DURATION}s", "--json",
                              "--out", os.path.join(work, f"grpc-{i}")])
                step = bottleneck_summary(b["stdout"])["steps"][0]
                ok = (step.get("statusClasses") or {}).get("2xx", 0)
                row = {"h2load": h["cpu_seconds"] / hn * 1e6, "bottleneck": b["cpu_seconds"] / max(1, step["completed"]) * 1e6}
                rows.append(row)
                print(f"grpc run {i+1}: h2load {hn} calls {row['h2load']:.2f} us/call | bottleneck {step['completed']} calls "
                      f"({ok} OK) {row['bottleneck']:.2f} us/call, ratio {row['bottleneck'] / row['h2load']:.3f}", flush=True)
            h_total = sum(r["h2load"] for r in rows) / len(rows)
            b_total = sum(r["bottleneck"] for r in rows) / len(rows)
            ratio = b_total / h_total
            print(f"GRPC EFFICIENCY: client CPU per unary call, 50 connections x 10 streams (h2c), reference h2load posting the "
                  f"same gRPC message: h2load {h_total:.2f} us, bottleneck {b_total:.2f} us, ratio {ratio:.3f} (must be <= 1.2): "
                  f"{'PASS' if ratio <= 1.2 else 'FAIL'}", flush=True)
            results["grpc_efficiency"] = {"reference": "h2load posting the same framed gRPC message", "h2load_us_per_call": h_total,
                                          "bottleneck_us_per_call": b_total, "ratio": ratio, "pass": ratio <= 1.2}

        # 2. Open-loop accuracy, each run beside the timer reference.
        if "open-loop" in SECTIONS:
            program = build_reference(work)
            accuracy = []
            for rate in (1000, 5000, 10000):
                runs = []
                for i in range(RUNS):
                    ref = reference(program, rate, DURATION)
                    sliced = reference(program, rate, DURATION, "--slice", "100000")
                    run = {"reference_p50_ms": ref["p50_ms"], "reference_p99_ms": ref["p99_ms"],
                           "sliced_reference_p99_ms": sliced["p99_ms"]}
                    line = (f"OPEN LOOP {rate} req/s run {i+1}: timer reference p50 {ref['p50_ms']:.3f} p99 {ref['p99_ms']:.3f} ms "
                            f"(CPU 0 stolen {ref['stolen_ms']:.0f} ms), with a 0.1 ms slice p99 {sliced['p99_ms']:.3f} ms "
                            f"(stolen {sliced['stolen_ms']:.0f} ms)")
                    for label, binary in [("bottleneck", BIN)] + ([("baseline", BASELINE)] if BASELINE else []):
                        steal_before = stolen_ms()
                        b = measured(["taskset", "-c", "0", binary, "load", "--target", url, "--rate", str(rate),
                                      "--duration", f"{DURATION}s", "--json", "--out", os.path.join(work, f"open-{label}-{rate}-{i}")])
                        stolen = stolen_ms() - steal_before
                        s = bottleneck_summary(b["stdout"])["steps"][0]
                        lag = s["scheduleLag"]["p99"]
                        run[label] = {"achieved_ratio": s["achievedRatio"], "lag_p50_ms": s["scheduleLag"]["p50"], "lag_p99_ms": lag,
                                      "latency_p99_ms": s["latency"]["p99"], "cpu_us_per_request": b["cpu_seconds"] / max(1, s["sent"]) * 1e6,
                                      "connections": s.get("connectionsOpened", 0), "stolen_ms": stolen,
                                      "pass": abs(s["achievedRatio"] - 1) <= 0.01 and lag < 1.0}
                        r = run[label]
                        line += (f" | {label}: achieved {r['achieved_ratio']:.4f}, lag p50 {r['lag_p50_ms']:.3f} p99 {lag:.3f} ms "
                                 f"({lag / max(ref['p99_ms'], 1e-3):.2f}x reference), {r['cpu_us_per_request']:.1f} us CPU/req, "
                                 f"{r['connections']} connections, CPU 0 stolen {stolen:.0f} ms")
                    runs.append(run)
                    print(line + f": {'PASS' if run['bottleneck']['pass'] else 'FAIL'}", flush=True)
                def median(values):
                    values = sorted(values)
                    return values[len(values) // 2]
                median_lag = median(r["bottleneck"]["lag_p99_ms"] for r in runs)
                median_ref = median(r["reference_p99_ms"] for r in runs)
                median_sliced = median(r["sliced_reference_p99_ms"] for r in runs)
                cpu = median(r["bottleneck"]["cpu_us_per_request"] for r in runs)
                # The verdict is the median run's, like the efficiency figure is the mean of its runs: one
                # run in which the hypervisor took a quarter of CPU 0 does not speak for the generator,
                # and every run's own verdict is printed above.
                achieved = median(abs(r["bottleneck"]["achieved_ratio"] - 1) for r in runs)
                ok = achieved <= 0.01 and median_lag < 1.0
                baseline = ""
                if BASELINE:
                    baseline = (f"; baseline lag p99 {median(r['baseline']['lag_p99_ms'] for r in runs):.3f} ms, "
                                f"{median(r['baseline']['cpu_us_per_request'] for r in runs):.1f} us CPU/req")
                floor = " (the timer reference alone already misses 1 ms at p99 on this machine now)" if min(median_ref, median_sliced) >= 1.0 else ""
                stolen = median(r["bottleneck"]["stolen_ms"] for r in runs)
                if stolen >= DURATION * 1000 * 0.01:
                    floor += (f" (the hypervisor took a median {stolen / (DURATION * 10):.1f}% of CPU 0 from these runs: "
                              f"each theft of a few ms makes every send due meanwhile late, in any generator)")
                passed = sum(1 for r in runs if r["bottleneck"]["pass"])
                print(f"OPEN LOOP {rate} req/s, median of {len(runs)} ({passed} of {len(runs)} runs passed): "
                      f"achieved within {achieved * 100:.2f}%, schedule lag p99 {median_lag:.3f} ms, timer reference p99 "
                      f"{median_ref:.3f} ms (ratio {median_lag / max(median_ref, 1e-3):.2f}), with a 0.1 ms slice {median_sliced:.3f} ms; "
                      f"generator CPU {cpu:.1f} us/req{baseline}; "
                      f"must be within 1% and lag p99 < 1 ms: {'PASS' if ok else 'FAIL'}{floor}", flush=True)
                accuracy.append({"rate": rate, "runs": runs, "median_lag_p99_ms": median_lag, "median_reference_p99_ms": median_ref,
                                 "median_stolen_ms": stolen,
                                 "median_sliced_reference_p99_ms": median_sliced, "cpu_us_per_request": cpu, "pass": ok})
            results["open_loop"] = accuracy

        # 3. Memory over a long run.
        if "memory" in SECTIONS:
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
    # Exit 1 when any must-show line failed, so `make bench` says so at its end.
    verdicts = [results[k]["pass"] for k in ("efficiency", "memory", "https_efficiency", "http2_efficiency", "grpc_efficiency") if k in results]
    verdicts += [r["pass"] for r in results.get("open_loop", [])]
    failed = not all(verdicts)
    if failed:
        print("load engine: at least one must-show line FAILED (above)", flush=True)
    return 1 if failed else 0

sys.exit(main())
