"""testbed/bed: bring a fault scenario up, tear it down, run a command starved.

  bed list                         scenarios with their faults and culprit
  bed up SCENARIO [--no-netns]     start it; prints target, ports, PIDs as JSON
  bed status                       the state of what is up (JSON)
  bed down                         remove exactly what `up` recorded
  bed run [--cpu-quota CORES] [--stat-json FILE] -- COMMAND...
                                   run COMMAND in a cgroup of its own (or the
                                   scenario's load-generator cgroup)
  bed leftovers                    list any bnk-* resource on the machine (exit 1 if any)
  bed clean                        remove every bnk-* resource (after a crash)

Everything created is recorded in the state file before it is used, so `down`
(and the signal handler of `up`) removes exactly that.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cgroups  # noqa: E402
from common import BedError, Interrupted, PREFIX, STATE_DIR, STATE_FILE, State, TESTBED, VENV_PY, log, sh  # noqa: E402
from network import LINKS, apply_network_faults, build_netns, netem_available, netns_pids  # noqa: E402
from scenarios import all_scenarios, load_scenario, service_path  # noqa: E402
from processes import find_leftovers, kill_pids, start_proxy, start_service, teardown  # noqa: E402


def cmd_up(args) -> int:
    if not os.path.exists(VENV_PY):
        raise BedError(f"no virtualenv at {VENV_PY}: run testbed/setup.sh first")
    sc = load_scenario(args.scenario)
    netns = not args.no_netns and sc["network"].get("netns", True)
    if os.geteuid() != 0:
        raise BedError("bed up needs root (network namespaces, tc, nftables, cgroups)")
    old = State.load()
    if old is not None:
        raise BedError(f"a test bed is already up (scenario {old.data.get('scenario')}); "
                       "run `bed down` first")
    state = State({"version": 1, "resources": [], "status": "starting",
                   "scenario": sc["name"], "netns_mode": netns, "started": time.time()})
    state.save()
    rundir = os.path.join(STATE_DIR, "bnk-run")

    def on_signal(signum, frame):
        raise Interrupted(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        state.add("dir", path=rundir)
        os.makedirs(rundir, exist_ok=True)
        with_proxy = bool(sc["proxy"].get("enabled", True))
        # fail early and loudly on missing kernel features
        quotas = {k: sc[k].get("cpu_quota") for k in ("service", "proxy", "load_generator")}
        if any(quotas.values()):
            cgroups.detect()
        if sc["network"].get("delay") and netns:
            ok, why = netem_available()
            if not ok:
                raise BedError(
                    f"scenario {sc['name']} needs network delay, but this kernel has no tc netem "
                    f"(`tc qdisc add ... netem` said: {why or 'unknown error'}). "
                    "Bandwidth (TBF) and loss (nftables) work without it.")
        if netns:
            build_netns(state, with_proxy)
        cgs = {}
        for comp, q in quotas.items():
            if q:
                rec = cgroups.create(f"{PREFIX}-{comp.replace('_', '')}", float(q))
                state.add("cgroup", **rec)
                cgs[comp] = rec
        memory = None
        headroom = sc["service"].get("memory_headroom_mb")
        if headroom:
            # The limit is the service's resting usage plus the headroom, measured after it
            # started: the same fault on a machine whose workers rest bigger or smaller.
            if "service" not in cgs:  # its own CPU cgroup too, unlimited: the sampler names it
                rec = cgroups.create(f"{PREFIX}-service", float(os.cpu_count() or 1))
                state.add("cgroup", **rec)
                cgs["service"] = rec
            memory = cgroups.create_memory(f"{PREFIX}-service")
            state.add("cgroup", **memory)
        service = start_service(state, sc, netns, rundir,
                                [cgs["service"], memory] if memory else cgs.get("service"))
        if memory:
            time.sleep(1.0)  # let the workers settle after their first allocations
            resting = cgroups.memory_usage(memory)
            cgroups.set_memory_limit(memory, resting + int(float(headroom) * 2**20))
            service["memory_cgroup"] = {"path": memory["paths"][0], "version": memory["version"],
                                        "resting_bytes": resting, "limit_bytes": memory["limit_bytes"]}
            cgs["service_memory"] = memory
        proxy = None
        if with_proxy:
            proxy = start_proxy(state, sc, netns, rundir, cgs.get("proxy"), service)
        faults = apply_network_faults(state, sc["network"], netns)
        front = proxy or service
        out = {
            "scenario": sc["name"], "culprit": sc["expect"].get("culprit"),
            "faults": sc.get("faults", []),
            "target": front["url"] + service_path(sc), "health": front.get("health_url") or front["url"] + "/health",
            "service": service, "proxy": proxy,
            "network": {"mode": "netns" if netns else "loopback", "faults": faults,
                        "links": ({k: {"left": {"dev": v[0], "netns": v[1], "addr": v[2]},
                                       "right": {"dev": v[3], "netns": v[4], "addr": v[5]}}
                                   for k, v in LINKS.items()
                                   if with_proxy or k == "service"} if netns else {})},
            "load_generator": {"cgroup": cgs["load_generator"]["paths"][0] if "load_generator" in cgs else None,
                               "cpu_quota": quotas.get("load_generator"),
                               "run": f"{os.path.join(TESTBED, 'bed')} run -- COMMAND"},
            "cgroups": {k: v for k, v in cgs.items()},
            "state_file": STATE_FILE, "rundir": rundir,
        }
        state.data["status"] = "up"
        state.data["up"] = out
        state.save()
        print(json.dumps(out, indent=None if args.compact else 1))
        return 0
    except BaseException as e:  # noqa: BLE001 - tear down on anything, then report
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        errors = teardown(state)
        try:
            os.unlink(STATE_FILE)
        except FileNotFoundError:
            pass
        for err in errors:
            log(f"teardown: {err}")
        if isinstance(e, Interrupted):
            log(f"interrupted ({e}); everything created was removed")
            return 130
        if isinstance(e, KeyboardInterrupt):
            log("interrupted; everything created was removed")
            return 130
        if isinstance(e, (BedError, cgroups.CgroupError)):
            log(f"FAILED: {e}")
            log("everything created was removed")
            return 4
        raise


def cmd_down(args) -> int:
    state = State.load()
    if state is None:
        log("nothing is up (no state file)")
        return 0
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    errors = teardown(state)
    for err in errors:
        log(f"teardown: {err}")
    if errors:
        log(f"state kept in {STATE_FILE}; retry `bed down` or `bed clean`")
        return 1
    os.unlink(STATE_FILE)
    try:
        os.rmdir(STATE_DIR)
    except OSError:
        pass
    log(f"down: removed {len(state.data.get('resources', []))} resources of "
        f"scenario {state.data.get('scenario')}")
    return 0


def cmd_leftovers(args) -> int:
    left = find_leftovers()
    print(json.dumps(left, indent=1))
    return 1 if left else 0


def cmd_clean(args) -> int:
    state = State.load()
    errors = teardown(state) if state else []
    left = find_leftovers()
    for line in left.get("processes", []):
        kill_pids([int(line.split()[0])])
    for ns in left.get("netns", []):
        kill_pids(netns_pids(ns))
        sh(["ip", "netns", "del", ns], check=False)
    for t in left.get("nft_tables", []):
        parts = t.split()
        if len(parts) == 3:
            sh(["nft", "delete", "table", parts[1], parts[2]], check=False)
    for link in find_leftovers().get("links", []):
        sh(["ip", "link", "del", link], check=False)
    for c in cgroups.leftovers():
        errors.extend(cgroups.remove({"paths": [c]}))
    for f in (STATE_FILE,):
        if os.path.exists(f):
            os.unlink(f)
    shutil.rmtree(os.path.join(STATE_DIR, "bnk-run"), ignore_errors=True)
    for e in errors:
        log(e)
    left = find_leftovers()
    print(json.dumps(left, indent=1))
    return 1 if left else 0


def cmd_status(args) -> int:
    state = State.load()
    if state is None:
        print(json.dumps({"status": "down"}))
        return 1
    print(json.dumps(state.data.get("up", state.data), indent=1))
    return 0


def cmd_list(args) -> int:
    rows = all_scenarios()
    if args.json:
        print(json.dumps([{k: r.get(k) for k in ("name", "description", "faults", "expect", "payload", "load")}
                          for r in rows], indent=1))
        return 0
    w = max(len(r["name"]) for r in rows)
    for r in rows:
        print(f"{r['name']:<{w}}  culprit={r['expect'].get('culprit'):<15} faults={','.join(r.get('faults') or ['none'])}")
    return 0


def cmd_run(args) -> int:
    cmd = args.command
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        raise BedError("bed run: no command given (bed run --cpu-quota 0.2 -- wrk ...)")
    own = None
    cg = None
    if args.cpu_quota:
        own = cgroups.create(f"{PREFIX}-run-{os.getpid()}", float(args.cpu_quota))
        cg = own
    else:
        state = State.load()
        recs = [r for r in (state.data["resources"] if state else [])
                if r["kind"] == "cgroup" and r["name"].endswith("loadgenerator")]
        if recs:
            cg = recs[0]
    rc = 1
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the child gets it; we clean up after
    try:
        before = cgroups.stat(cg) if cg else {}

        def pre():
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            if cg:
                cgroups.join(cg)

        t0 = time.time()
        p = subprocess.Popen(cmd, preexec_fn=pre)
        try:
            rc = p.wait(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
            log(f"command killed after {args.timeout}s")
        wall = time.time() - t0
        after = cgroups.stat(cg) if cg else {}
        if cg:
            delta = {k: after[k] - before.get(k, 0) for k in after
                     if isinstance(after[k], int) and k != "version"}
            rep = {"cgroup": cg["paths"][0], "cgroup_version": cg["version"],
                   "cpu_quota_cores": cg.get("cores"), "wall_seconds": round(wall, 3),
                   "exit_code": rc, "cpu_stat_delta": delta}
            if "usage_usec" in delta and wall > 0:
                rep["cpu_cores_used"] = round(delta["usage_usec"] / 1e6 / wall, 3)
            if args.stat_json:
                with open(args.stat_json, "w") as f:
                    json.dump(rep, f, indent=1)
            else:
                log(json.dumps(rep))
    finally:
        if own:
            for e in cgroups.remove(own) + cgroups.restore_controllers([own]):
                log(e)
    return rc


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="bed", description="bottleneck test bed",
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("up", help="start a scenario")
    p.add_argument("scenario")
    p.add_argument("--no-netns", action="store_true", help="flat loopback mode")
    p.add_argument("--compact", action="store_true", help="one-line JSON")
    p.set_defaults(fn=cmd_up)
    sub.add_parser("down", help="tear down what is up").set_defaults(fn=cmd_down)
    p = sub.add_parser("list", help="list scenarios")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_list)
    sub.add_parser("status", help="print the JSON of what is up").set_defaults(fn=cmd_status)
    sub.add_parser("leftovers", help="list bnk-* resources; exit 1 if any").set_defaults(fn=cmd_leftovers)
    sub.add_parser("clean", help="remove every bnk-* resource").set_defaults(fn=cmd_clean)
    p = sub.add_parser("run", help="run a command CPU-limited")
    p.add_argument("--cpu-quota", type=float, default=None, help="cores, e.g. 0.2")
    p.add_argument("--stat-json", default=None, help="write cgroup cpu.stat deltas here")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_run)
    args = ap.parse_args(argv)
    try:
        return args.fn(args)
    except (BedError, cgroups.CgroupError) as e:
        log(f"FAILED: {e}")
        return 4


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `bed status | head`
        sys.exit(0)
