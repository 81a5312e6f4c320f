#!/usr/bin/env python3
"""Runs `bottleneck diagnose` against every test-bed scenario and compares the culprit it
names with the one the scenario injects. Prints a table and `N passed, N failed`.

Usage: scripts/diagnose-testbed.py BOTTLENECK_BIN [SCENARIO...]
With BOTTLENECK_KEEP_EVIDENCE=DIR each scenario's evidence.json is copied to DIR/SCENARIO.json
(how Tests/BottleneckTests/Fixtures/evidence/ was recorded).
Each scenario: `testbed/bed up` -> diagnose at the scenario's load, sampling the service's
process tree -> `testbed/bed down`. A scenario that `requires: [netem]` is run only when the
test bed's own probe (bedlib/bed.py netem_available) finds tc netem; otherwise it is listed as
SKIP with the probe's reason and counted in `N skipped`.
Pass criterion: the culprit named equals the scenario's expected culprit; in addition the
load-generator scenario (starved-loadgen) must exit 3 with `"valid": false`, and the scenario
expecting no culprit (healthy) must exit 0 with `"healthy": true`. Causes are shown, not compared
(scenario and rule cause names differ, e.g. listen-backlog-overflow vs listen-backlog).
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

_NETEM = None

def netem_missing():
    """None when tc netem works here, else why not (the test bed's probe, run once)."""
    global _NETEM
    if _NETEM is None:
        sys.path.insert(0, os.path.join(ROOT, "testbed", "bedlib"))
        try:
            import bed as bedlib  # testbed/bedlib/bed.py; needs the test bed's virtualenv (yaml)
            ok, why = bedlib.netem_available()
        except Exception as e:  # noqa: BLE001 - the reason is printed in the SKIP row
            ok, why = False, f"netem probe failed: {type(e).__name__}: {e}"
        lines = (why or "").strip().splitlines()
        _NETEM = "" if ok else "needs tc netem, probe said: " + (lines[-1][:90] if lines else "unknown error")
    return _NETEM or None

def verdict_ok(expected, named, code, out):
    """PASS/FAIL and why, stricter where the JSON tells more than the culprit."""
    if named != expected:
        return "FAIL", ""
    if expected == "load-generator" and (code != 3 or out.get("valid") is not False):
        return "FAIL", f"want exit 3 and valid=false, got exit {code} valid={out.get('valid')}; "
    if expected == "none" and (code != 0 or out.get("healthy") is not True):
        return "FAIL", f"want exit 0 and healthy=true, got exit {code} healthy={out.get('healthy')}; "
    return "PASS", ""

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
            missing = netem_missing()
            if missing:
                rows.append((name, expected, "-", "-", "SKIP", missing))
                continue
        subprocess.run([BED, "down"], capture_output=True)
        up = subprocess.run([BED, "up", name, "--compact"], capture_output=True, text=True, timeout=180)
        if up.returncode != 0:
            rows.append((name, expected, "-", "-", "FAIL", "bed up failed: " + up.stderr.strip().splitlines()[-1][:80]))
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
                rows.append((name, expected, "-", "-", "FAIL", f"diagnose exit {res.returncode}: {res.stderr.strip()[-100:]}"))
                continue
            try:
                out = json.loads(res.stdout)
            except ValueError:
                rows.append((name, expected, "-", "-", "FAIL", f"diagnose exit {res.returncode}, no JSON: {res.stderr.strip()[-100:]}"))
                continue
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
            cause = out["verdicts"][0]["cause"] if out["verdicts"] else "-"
            detail = "; ".join(f"{v['culprit']}/{v['cause']} ({v['rule']})" for v in out["verdicts"][:3]) or ("healthy" if out["healthy"] else "no verdict")
            result, why = verdict_ok(expected, named, res.returncode, out)
            rows.append((name, expected, named, cause, result, why + detail))
        finally:
            subprocess.run([BED, "down"], capture_output=True)
    width = max(len(r[0]) for r in rows)
    cw = max([len("named cause")] + [len(r[3]) for r in rows])
    print(f"{'scenario'.ljust(width)}  {'expected':15} {'named':15} {'named cause'.ljust(cw)} result  verdicts")
    for r in rows:
        print(f"{r[0].ljust(width)}  {r[1]:15} {r[2]:15} {r[3].ljust(cw)} {r[4]:6}  {r[5]}")
    passed = sum(r[4] == "PASS" for r in rows)
    failed = sum(r[4] == "FAIL" for r in rows)
    print(f"{passed} passed, {failed} failed, {sum(r[4] == 'SKIP' for r in rows)} skipped")
    sys.exit(1 if failed else 0)

main()
