#!/usr/bin/env python3
"""Runs `bottleneck diagnose` against every test-bed scenario and compares the culprit it
names with the one the scenario injects. Prints a table and `N passed, N failed`.

Usage: scripts/diagnose-testbed.py BOTTLENECK_BIN [SCENARIO...]
With BOTTLENECK_KEEP_EVIDENCE=DIR each scenario's evidence.json is copied to DIR/SCENARIO.json
(how Tests/BottleneckTests/Fixtures/evidence/ was recorded).
Each scenario: `testbed/bed up` -> diagnose at the scenario's load, sampling the service's
process tree -> `testbed/bed down`. Scenarios that need a kernel feature this machine lacks
(netem) are listed as skipped with the reason.
"""
import json, os, re, shutil, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BED = os.path.join(ROOT, "testbed", "bed")
BIN = os.path.abspath(sys.argv[1])
ONLY = sys.argv[2:]

def our_payload(spec):
    """The test bed's wrk payload names, in bottleneck's payload syntax."""
    m = re.fullmatch(r"tensor:n=(\d+)", spec or "")
    if m:
        return f"tensor:shape=1x{m.group(1)},encoding=json"
    if spec and spec.startswith("image:"):
        keys = [kv for kv in spec[len("image:"):].split(",") if kv.split("=")[0] in ("w", "aspect", "format", "quality", "dist")]
        return "image:" + ",".join(keys)
    return spec

def scenario(name):
    import yaml  # from the test bed's virtualenv
    with open(os.path.join(ROOT, "testbed", "scenarios", f"{name}.yaml")) as f:
        return yaml.safe_load(f)

def main():
    names = ONLY or sorted(f[:-5] for f in os.listdir(os.path.join(ROOT, "testbed", "scenarios")) if f.endswith(".yaml"))
    rows = []
    for name in names:
        spec = scenario(name)
        expected = spec.get("expect", {}).get("culprit", "none")
        requires = spec.get("expect", {}).get("requires", [])
        if "netem" in requires:
            rows.append((name, expected, "-", "SKIP", "needs tc netem, which this kernel lacks"))
            continue
        subprocess.run([BED, "down"], capture_output=True)
        up = subprocess.run([BED, "up", name, "--compact"], capture_output=True, text=True, timeout=180)
        if up.returncode != 0:
            rows.append((name, expected, "-", "FAIL", "bed up failed: " + up.stderr.strip().splitlines()[-1][:80]))
            continue
        try:
            bed = json.loads(up.stdout)
            load = spec.get("load", {})
            args = [BIN, "diagnose", "--target", bed["target"], "--json", "--slo", "p99=300ms",
                    "--concurrency", str(load.get("concurrency", 4)), "--duration", "8s"]
            # The service's tree (master + workers) and, apart from it, the proxy in front.
            args += ["--server-pid", str(bed["service"]["pid"])]
            if bed.get("proxy") and bed["proxy"].get("pid"):
                args += ["--proxy-pid", str(bed["proxy"]["pid"])]
            payload = our_payload(spec.get("payload"))
            if payload:
                args += ["--payload", payload]
            if spec.get("load_generator", {}).get("cpu_quota"):
                args = [BED, "run", "--"] + args
            res = subprocess.run(args, capture_output=True, text=True, timeout=240)
            if res.returncode not in (0, 1, 3):
                rows.append((name, expected, "-", "FAIL", f"diagnose exit {res.returncode}: {res.stderr.strip()[-100:]}"))
                continue
            out = json.loads(res.stdout)
            keep = os.environ.get("BOTTLENECK_KEEP_EVIDENCE")
            if keep:
                os.makedirs(keep, exist_ok=True)
                shutil.copy(os.path.join(out["runDirectory"], "evidence.json"), os.path.join(keep, f"{name}.json"))
            if not out["valid"]:
                named = "load-generator"
            elif out["verdicts"]:
                named = out["verdicts"][0]["culprit"]
            else:
                named = "none"
            detail = "; ".join(f"{v['culprit']}/{v['cause']} ({v['rule']})" for v in out["verdicts"][:3]) or ("healthy" if out["healthy"] else "no verdict")
            rows.append((name, expected, named, "PASS" if named == expected else "FAIL", detail))
        finally:
            subprocess.run([BED, "down"], capture_output=True)
    width = max(len(r[0]) for r in rows)
    print(f"{'scenario'.ljust(width)}  {'expected':15} {'named':15} result  verdicts")
    for r in rows:
        print(f"{r[0].ljust(width)}  {r[1]:15} {r[2]:15} {r[3]:6}  {r[4]}")
    passed = sum(r[3] == "PASS" for r in rows)
    failed = sum(r[3] == "FAIL" for r in rows)
    print(f"{passed} passed, {failed} failed, {sum(r[3] == 'SKIP' for r in rows)} skipped")
    sys.exit(1 if failed else 0)

main()
