"""The test bed's test suite (run through tests/run)."""
from __future__ import annotations

import argparse
import glob
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback

import yaml

TB = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BED = os.path.join(TB, "bed")
sys.path.insert(0, os.path.join(TB, "checks"))
from lib import wrk, make_payloads  # noqa: E402
import procfs  # noqa: E402  (lib put testbed/bedlib on the path)

ROWS: list[dict] = []
UP_TIMEOUT = 180


def bed(*args, timeout=UP_TIMEOUT, check=False) -> subprocess.CompletedProcess:
    p = subprocess.run([BED, *args], capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise AssertionError(f"bed {' '.join(args)} -> {p.returncode}: {p.stderr.strip()[-800:]}")
    return p


def leftovers() -> dict:
    p = bed("leftovers", timeout=60)
    try:
        return json.loads(p.stdout)
    except ValueError:
        return {"unparsable": [p.stdout + p.stderr]}


def row(name, check, ok, figures, seconds, detail=""):
    ROWS.append({"scenario": name, "check": check, "ok": ok, "figures": figures,
                 "seconds": round(seconds, 1), "detail": detail})
    mark = "PASS" if ok else "FAIL"
    print(f"[{mark}] {name:<22} {check:<26} {seconds:6.1f}s  {detail}", flush=True)


def assert_clean(name: str, t0: float, pids: list[int] | None = None):
    left = leftovers()
    alive = [p for p in (pids or []) if procfs.proc_alive(p)]
    if alive:
        left["recorded_pids_alive"] = alive
    row(name, "teardown-leaves-nothing", not left, {"leftovers": left}, time.time() - t0,
        "" if not left else json.dumps(left)[:300])
    if left:
        bed("clean", timeout=120)


def run_scenario(path: str, work_root: str):
    with open(path) as f:
        sc = yaml.safe_load(f)
    name = sc["name"]
    work = os.path.join(work_root, name)
    os.makedirs(work, exist_ok=True)
    t0 = time.time()
    info = None
    p = bed("up", name, "--compact")
    requires = (sc.get("expect") or {}).get("requires") or []
    if p.returncode != 0:
        err = p.stderr.strip()
        if "netem" in requires and p.returncode == 4 and "netem" in err:
            row(name, "fails-loudly-without-netem", True, {"exit": p.returncode},
                time.time() - t0, err.splitlines()[-2][:110] if len(err.splitlines()) > 1 else err[:110])
        else:
            row(name, "up", False, {"exit": p.returncode}, time.time() - t0, err[-400:])
        assert_clean(name, time.time())
        return
    try:
        info = json.loads(p.stdout)
        # A TLS front (proxy.tls) is served over https, with the CA that signed it.
        tls = bool((sc.get("proxy") or {}).get("tls"))
        # The gRPC flavour is served as grpc:// (KServe v2 over gRPC, h2c).
        scheme = "grpc://" if (sc.get("service") or {}).get("server") == "grpc" else ("https://" if tls else "http://")
        ok_up = info["scenario"] == name and info["target"].startswith(scheme) and \
            (not tls or os.path.isfile(info["proxy"]["ca"])) and \
            info["service"]["pids"] and (info["proxy"] is None or info["proxy"]["pids"])
        row(name, "up-json", bool(ok_up), {"target": info["target"]}, time.time() - t0)
        t1 = time.time()
        mod = importlib.import_module(sc.get("check", name.replace("-", "_")))
        res = mod.check(info, sc, work)
        detail = "; ".join(a for a in res.asserts if a.startswith("FAIL")) or \
            ", ".join(f"{k}={v}" for k, v in list(res.figures.items())[:4])
        row(name, f"ground-truth:{sc.get('check')}", res.ok,
            dict(res.figures, asserts=res.asserts), time.time() - t1, detail[:200])
    except Exception as e:  # noqa: BLE001
        row(name, "check-crashed", False, {}, time.time() - t0,
            f"{type(e).__name__}: {e}"[:300])
        traceback.print_exc()
    finally:
        t2 = time.time()
        d = bed("down", timeout=120)
        if d.returncode != 0:
            row(name, "down", False, {}, time.time() - t2, d.stderr[-300:])
        pids = []
        try:
            pids = info["service"]["pids"] + ((info.get("proxy") or {}).get("pids") or [])
        except (NameError, KeyError, TypeError):
            pass
        assert_clean(name, t2, pids)


def extra_tests(work_root: str):
    # 1. flat loopback mode
    t0 = time.time()
    p = bed("up", "healthy", "--no-netns", "--compact")
    ok = p.returncode == 0
    figs = {}
    if ok:
        try:
            info = json.loads(p.stdout)
            files, ct = make_payloads("image:w=224..256,format=jpeg", os.path.join(work_root, "flat"), 2)
            r = wrk(info["target"], files, ct, connections=1, duration=1)
            figs = {"target": info["target"], "requests": r["requests"], "p99_ms": r["p99_ms"]}
            ok = info["target"].startswith("http://127.0.0.1:") and r["requests"] > 5 and r["errors_total"] == 0
        finally:
            bed("down", timeout=120)
    row("healthy --no-netns", "loopback-mode", ok, figs, time.time() - t0,
        p.stderr.strip()[-200:] if p.returncode else str(figs))
    assert_clean("healthy --no-netns", time.time())

    # 2. a second `up` is refused while one is up, and leaves the first intact
    t0 = time.time()
    p1 = bed("up", "healthy", "--compact")
    p2 = bed("up", "slow-model", "--compact") if p1.returncode == 0 else None
    still = bed("status").returncode == 0
    bed("down", timeout=120)
    ok = p1.returncode == 0 and p2 is not None and p2.returncode == 4 and "already up" in p2.stderr and still
    row("double up", "refused-loudly", ok, {}, time.time() - t0,
        (p2.stderr.strip().splitlines() or [""])[-1][:120] if p2 else p1.stderr[-200:])
    assert_clean("double up", time.time())

    # 3. Ctrl-C (SIGINT) in the middle of `up` removes everything created so far
    t0 = time.time()
    proc = subprocess.Popen([BED, "up", "slow-model"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    # wait until the service process exists, then interrupt
    deadline = time.time() + 30
    state = "/run/bottleneck-testbed/state.json"
    while time.time() < deadline:
        try:
            with open(state) as f:
                if any(r["kind"] == "process" for r in json.load(f)["resources"]):
                    break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    ok = proc.returncode == 130 and "removed" in err
    row("interrupted up", "sigint-cleans-up", ok, {"exit": proc.returncode}, time.time() - t0,
        err.strip().splitlines()[-1][:120] if err.strip() else "")
    assert_clean("interrupted up", time.time())

    # 4. a failing start-up (bad knob makes the service die) is loud and clean
    t0 = time.time()
    bad = os.path.join(work_root, "broken.yaml")
    with open(bad, "w") as f:
        yaml.safe_dump({"name": "broken", "faults": [], "expect": {"culprit": "none"},
                        "service": {"server": "nonexistent-server"}}, f)
    p = bed("up", bad)
    ok = p.returncode == 4 and "FAILED" in p.stderr
    row("broken service", "fails-loudly", ok, {"exit": p.returncode}, time.time() - t0,
        (p.stderr.strip().splitlines() or [""])[-2][:120] if p.stderr.strip() else "")
    assert_clean("broken service", time.time())

    # 5. bed run: own cgroup with quota, throttled, removed afterwards
    t0 = time.time()
    stat = os.path.join(work_root, "run-stat.json")
    p = subprocess.run([BED, "run", "--cpu-quota", "0.1", "--stat-json", stat, "--",
                        sys.executable, "-c",
                        "import time\nt=time.time()\nwhile time.time()-t<1.5: pass"],
                       capture_output=True, text=True, timeout=60)
    ok = False
    figs = {}
    if p.returncode == 0 and os.path.exists(stat):
        st = json.load(open(stat))
        figs = {"version": st["cgroup_version"], "nr_throttled": st["cpu_stat_delta"].get("nr_throttled"),
                "cores_used": st.get("cpu_cores_used")}
        ok = figs["nr_throttled"] > 0 and (figs["cores_used"] is None or figs["cores_used"] < 0.2)
    row("bed run --cpu-quota 0.1", "cgroup-quota", ok, figs, time.time() - t0, str(figs) if ok else p.stderr[-300:])
    assert_clean("bed run", time.time())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenarios", nargs="*")
    ap.add_argument("--skip-extra", action="store_true")
    ap.add_argument("--json", default=None, help="write results here")
    a = ap.parse_args()
    t_start = time.time()
    import fcntl
    os.makedirs("/run", exist_ok=True)
    lock = open("/run/bottleneck-testbed.lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print("suite: another test-bed suite is running (/run/bottleneck-testbed.lock)", flush=True)
        sys.exit(2)
    pre = leftovers()
    if pre:
        print(f"suite: leftovers from an earlier run, cleaning: {json.dumps(pre)}", flush=True)
        bed("clean", timeout=120)

    def on_signal(signum, frame):
        print("suite: interrupted, tearing down", flush=True)
        bed("down", timeout=120)
        sys.exit(130)

    signal.signal(signal.SIGTERM, on_signal)
    paths = sorted(glob.glob(os.path.join(TB, "scenarios", "*.yaml")))
    if a.scenarios:
        paths = [p for p in paths if os.path.basename(p)[:-5] in a.scenarios]
    with tempfile.TemporaryDirectory(prefix="bnk-suite-") as work_root:
        try:
            for p in paths:
                run_scenario(p, work_root)
            if not a.skip_extra:
                extra_tests(work_root)
        except KeyboardInterrupt:
            bed("down", timeout=120)
            raise
    total = time.time() - t_start
    print()
    print(f"{'scenario':<24} {'check':<30} {'result':<6} figures")
    print("-" * 110)
    for r in ROWS:
        figs = {k: v for k, v in r["figures"].items() if k != "asserts"}
        print(f"{r['scenario']:<24} {r['check']:<30} {'PASS' if r['ok'] else 'FAIL':<6} "
              f"{json.dumps(figs)[:200]}")
    passed = sum(r["ok"] for r in ROWS)
    failed = len(ROWS) - passed
    print(f"\nsuite time {total:.0f}s")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"seconds": round(total, 1), "rows": ROWS}, f, indent=1)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or not ROWS else 0)


if __name__ == "__main__":
    main()
