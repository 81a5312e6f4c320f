#!/usr/bin/env python3
"""Live capture cost (issue "Capture"), for `make bench`.

nginx (1 worker pinned to CPU 1, scripts/local-nginx.sh) serves a small file on loopback; the
client is pinned to CPU 0 and runs `bottleneck load --rate 10000 --duration 10s`, RUNS times
without capture and RUNS times with `--capture lo`, alternating. Reports the packets the
capture dropped (capture-summary.json) and the client's CPU per completed request (user+sys
from wait4, which includes the capture thread) with and without capture, and the ratio.
Must show: zero drops, ratio <= 1.3.

Needs root (live capture), nginx. Traffic: 127.0.0.1 only, bounded by --duration.
Usage: capture_live.py BOTTLENECK_BIN [--quick]
"""
import json, os, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.abspath(sys.argv[1])
QUICK = "--quick" in sys.argv
DURATION = 4 if QUICK else 10
RUNS = 1 if QUICK else 2
RATE = 10000
PORT = 18492


def measured(cmd):
    """Runs cmd under run_measured.py: its stdout, exit status and wait4 CPU seconds."""
    fd, out_path = tempfile.mkstemp(prefix="bench-out-")
    os.close(fd)
    env = dict(os.environ, BENCH_STDOUT=out_path)
    res = subprocess.run([sys.executable, os.path.join(HERE, "run_measured.py"), "--"] + cmd,
                         env=env, capture_output=True, text=True, check=True)
    stats = json.loads(res.stdout.strip().splitlines()[-1])
    with open(out_path) as f:
        stats["stdout"] = f.read()
    os.unlink(out_path)
    return stats


def one_run(work, url, index, capture):
    out = os.path.join(work, f"{'with' if capture else 'without'}-{index}")
    cmd = ["taskset", "-c", "0", BIN, "load", "--target", url, "--rate", str(RATE),
           "--duration", f"{DURATION}s", "--json", "--out", out]
    if capture:
        cmd += ["--capture", "lo", "--capture-ports", str(PORT)]
    m = measured(cmd)
    # Exit 3 means the generator warned it was near its CPU limit; the numbers are still real.
    if m["exit"] not in (0, 3):
        raise SystemExit(f"bottleneck load exited {m['exit']}; see {out}")
    step = json.loads(m["stdout"])["steps"][0]
    row = {"completed": step["completed"], "achieved_ratio": step["achievedRatio"],
           "lag_p99_ms": step["scheduleLag"]["p99"], "cpu_seconds": m["cpu_seconds"],
           "user_seconds": m["user_seconds"], "sys_seconds": m["sys_seconds"], "exit": m["exit"],
           "us_per_request": m["cpu_seconds"] / step["completed"] * 1e6}
    if capture:
        with open(os.path.join(out, "capture-summary.json")) as f:
            summary = json.load(f)
        row["packets"] = sum(i["packets"] for i in summary["interfaces"])
        row["drops"] = sum(i["drops"] for i in summary["interfaces"])
        with open(os.path.join(out, "capture-exchanges.jsonl")) as f:
            row["exchanges_complete"] = sum(1 for line in f if line.rstrip().endswith('"complete":true}'))
    return row


def main():
    work = tempfile.mkdtemp(prefix="bottleneck-capture-live-")
    subprocess.run([os.path.join(ROOT, "scripts/local-nginx.sh"), work, str(PORT), "1"], check=True)
    url = f"http://127.0.0.1:{PORT}/small.txt"
    without, with_ = [], []
    try:
        for i in range(RUNS):
            for capture in (False, True):
                r = one_run(work, url, i, capture)
                (with_ if capture else without).append(r)
                extra = (f", captured {r['packets']} packets, dropped {r['drops']}, "
                         f"complete exchanges {r['exchanges_complete']}/{r['completed']}") if capture else ""
                print(f"run {i + 1} {'with' if capture else 'without'} capture: {r['completed']} req, "
                      f"achieved {r['achieved_ratio']:.4f}, lag p99 {r['lag_p99_ms']:.3f} ms, "
                      f"CPU {r['user_seconds']:.2f} user + {r['sys_seconds']:.2f} sys s, "
                      f"{r['us_per_request']:.2f} us/req{extra}", flush=True)
    finally:
        with open(os.path.join(work, "nginx.pid")) as f:
            subprocess.run(["kill", f.read().strip()])
        time.sleep(0.2)
        shutil.rmtree(work, ignore_errors=True)

    base = sum(r["cpu_seconds"] for r in without) / sum(r["completed"] for r in without) * 1e6
    cap = sum(r["cpu_seconds"] for r in with_) / sum(r["completed"] for r in with_) * 1e6
    ratio = cap / base
    drops = sum(r["drops"] for r in with_)
    packets = sum(r["packets"] for r in with_)
    print(f"CAPTURE LIVE DROPS: {drops} of {packets} packets at {RATE} req/s (must be 0): {'PASS' if drops == 0 else 'FAIL'}")
    print(f"CAPTURE LIVE CPU: client CPU per request without capture {base:.2f} us, with --capture lo {cap:.2f} us, "
          f"ratio {ratio:.3f} (must be <= 1.3): {'PASS' if ratio <= 1.3 else 'FAIL'}", flush=True)
    os.makedirs(os.path.join(ROOT, "bench-out"), exist_ok=True)
    with open(os.path.join(ROOT, "bench-out", "capture-live.json"), "w") as f:
        json.dump({"without": without, "with": with_, "us_per_request_without": base, "us_per_request_with": cap,
                   "ratio": ratio, "drops": drops, "pass": drops == 0 and ratio <= 1.3}, f, indent=2)
    sys.exit(0 if drops == 0 and ratio <= 1.3 else 1)


main()
