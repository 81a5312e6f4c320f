"""CPU-quota cgroups for the test bed: cgroup v2 (cpu.max) where the unified
hierarchy has the cpu controller, else cgroup v1 (cpu.cfs_quota_us).

Only cgroups named bnk-* that the bed creates are ever written or removed.
"""
from __future__ import annotations

import os
import signal
import time

PREFIX = "bnk-"
PERIOD_US = 100_000


class CgroupError(RuntimeError):
    pass


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def _write(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _mounts():
    out = []
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 4:
                out.append((parts[1], parts[2], parts[3].split(",")))
    return out


def detect() -> dict:
    """Return {"version": 2, "root": path} or {"version": 1, "cpu": path,
    "cpuacct": path-or-None}; raise CgroupError when no CPU controller can be
    used (the scenario must then fail loudly)."""
    forced = os.environ.get("BNK_CGROUP_VERSION")
    mounts = _mounts()
    if forced != "1":
        for mnt, fstype, _ in mounts:
            if fstype != "cgroup2":
                continue
            ctl = os.path.join(mnt, "cgroup.controllers")
            try:
                controllers = _read(ctl).split()
            except OSError:
                continue
            if "cpu" in controllers:
                return {"version": 2, "root": mnt}
    if forced != "2":
        cpu = cpuacct = None
        for mnt, fstype, opts in mounts:
            if fstype != "cgroup":
                continue
            if "cpu" in opts and cpu is None:
                cpu = mnt
            if "cpuacct" in opts and cpuacct is None:
                cpuacct = mnt
        if cpu and os.path.exists(os.path.join(cpu, "cpu.cfs_quota_us")):
            return {"version": 1, "cpu": cpu,
                    "cpuacct": cpuacct if cpuacct != cpu else None}
    raise CgroupError(
        "no usable CPU controller: neither cgroup v2 with 'cpu' in cgroup.controllers "
        "nor a cgroup v1 'cpu' hierarchy with cpu.cfs_quota_us was found; "
        "CPU-starvation faults cannot be injected on this machine")


def create(name: str, cores: float) -> dict:
    """Create cgroup PREFIX+name limited to `cores` CPUs; return its record."""
    if not name.startswith(PREFIX):
        name = PREFIX + name
    if cores <= 0:
        raise CgroupError(f"cpu quota must be > 0 cores, got {cores}")
    info = detect()
    quota = max(1000, int(cores * PERIOD_US))
    paths = []
    enabled = None
    if info["version"] == 2:
        root = info["root"]
        sub = _read(os.path.join(root, "cgroup.subtree_control")).split()
        if "cpu" not in sub:
            try:
                _write(os.path.join(root, "cgroup.subtree_control"), "+cpu")
            except OSError as e:
                raise CgroupError(f"cannot enable the cpu controller in {root}: {e}") from e
            # Recorded so that restore_controllers() turns it off again: the bed leaves the host as it found it.
            enabled = os.path.join(root, "cgroup.subtree_control")
        path = os.path.join(root, name)
        try:
            os.makedirs(path, exist_ok=True)
            paths.append(path)
            _write(os.path.join(path, "cpu.max"), f"{quota} {PERIOD_US}")
        except OSError as e:
            if os.path.isdir(path):
                try:
                    os.rmdir(path)
                except OSError:
                    pass
            if enabled:
                try:
                    _write(enabled, "-cpu")
                except OSError:
                    pass
            raise CgroupError(f"cannot create cgroup {path} with a CPU quota: {e}") from e
    else:
        path = os.path.join(info["cpu"], name)
        os.makedirs(path, exist_ok=True)
        paths.append(path)
        _write(os.path.join(path, "cpu.cfs_period_us"), str(PERIOD_US))
        _write(os.path.join(path, "cpu.cfs_quota_us"), str(quota))
        if info.get("cpuacct"):
            acct = os.path.join(info["cpuacct"], name)
            os.makedirs(acct, exist_ok=True)
            paths.append(acct)
    return {"name": name, "version": info["version"], "paths": paths, "cores": cores,
            "quota_us": quota, "period_us": PERIOD_US, "enabled_cpu_in": enabled}


def detect_memory() -> dict:
    """Return {"version": 2, "root": path} or {"version": 1, "root": path} for the memory
    controller; raise CgroupError when there is none (the scenario must then fail loudly)."""
    mounts = _mounts()
    for mnt, fstype, _ in mounts:
        if fstype == "cgroup2":
            try:
                if "memory" in _read(os.path.join(mnt, "cgroup.controllers")).split():
                    return {"version": 2, "root": mnt}
            except OSError:
                continue
    for mnt, fstype, opts in mounts:
        if fstype == "cgroup" and "memory" in opts and os.path.exists(os.path.join(mnt, "memory.limit_in_bytes")):
            return {"version": 1, "root": mnt}
    raise CgroupError("no usable memory controller: neither cgroup v2 with 'memory' in cgroup.controllers "
                      "nor a cgroup v1 'memory' hierarchy was found; OOM faults cannot be injected on this machine")


def create_memory(name: str) -> dict:
    """Create memory cgroup PREFIX+name, unlimited until set_memory_limit(); return its record."""
    if not name.startswith(PREFIX):
        name = PREFIX + name
    info = detect_memory()
    enabled = None
    if info["version"] == 2:
        control = os.path.join(info["root"], "cgroup.subtree_control")
        if "memory" not in _read(control).split():
            try:
                _write(control, "+memory")
            except OSError as e:
                raise CgroupError(f"cannot enable the memory controller in {info['root']}: {e}") from e
            enabled = control
    path = os.path.join(info["root"], name)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise CgroupError(f"cannot create memory cgroup {path}: {e}") from e
    return {"name": name, "version": info["version"], "paths": [path], "memory": True,
            "enabled_memory_in": enabled}


def set_memory_limit(rec: dict, limit: int) -> None:
    """Limit the cgroup's memory (v2 memory.max, v1 memory.limit_in_bytes), swap included
    where the kernel accounts it, so the OOM killer, not swapping, answers an overrun."""
    path = rec["paths"][0]
    if rec["version"] == 2:
        _write(os.path.join(path, "memory.max"), str(limit))
        if os.path.exists(os.path.join(path, "memory.swap.max")):
            _write(os.path.join(path, "memory.swap.max"), "0")
    else:
        _write(os.path.join(path, "memory.limit_in_bytes"), str(limit))
        memsw = os.path.join(path, "memory.memsw.limit_in_bytes")
        if os.path.exists(memsw):
            _write(memsw, str(limit))
    rec["limit_bytes"] = limit


def memory_usage(rec: dict) -> int:
    path = rec["paths"][0]
    name = "memory.current" if rec["version"] == 2 else "memory.usage_in_bytes"
    return int(_read(os.path.join(path, name)))


def oom_kills(rec: dict) -> int:
    """The cgroup's OOM-kill count: v2 memory.events oom_kill, v1 memory.oom_control oom_kill."""
    path = rec["paths"][0]
    name = "memory.events" if rec["version"] == 2 else "memory.oom_control"
    for line in _read(os.path.join(path, name)).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "oom_kill":
            return int(parts[1])
    return 0


def join(rec: dict, pid: int = 0) -> None:
    """Move a process (default: the caller) into the cgroup."""
    pid = pid or os.getpid()
    for p in rec["paths"]:
        _write(os.path.join(p, "cgroup.procs"), str(pid))


def procs(rec: dict) -> list[int]:
    out = set()
    for p in rec["paths"]:
        try:
            out.update(int(x) for x in _read(os.path.join(p, "cgroup.procs")).split())
        except OSError:
            pass
    return sorted(out)


def stat(rec: dict) -> dict:
    """Normalised throttling/usage figures for v1 and v2."""
    res = {"version": rec["version"], "path": rec["paths"][0]}
    try:
        raw = dict(line.split() for line in _read(os.path.join(rec["paths"][0], "cpu.stat")).splitlines()
                   if len(line.split()) == 2)
    except OSError:
        return res
    res["nr_periods"] = int(raw.get("nr_periods", 0))
    res["nr_throttled"] = int(raw.get("nr_throttled", 0))
    if "throttled_usec" in raw:
        res["throttled_usec"] = int(raw["throttled_usec"])
    elif "throttled_time" in raw:  # v1: nanoseconds
        res["throttled_usec"] = int(raw["throttled_time"]) // 1000
    if "usage_usec" in raw:
        res["usage_usec"] = int(raw["usage_usec"])
    elif len(rec["paths"]) > 1:
        try:
            res["usage_usec"] = int(_read(os.path.join(rec["paths"][1], "cpuacct.usage"))) // 1000
        except OSError:
            pass
    elif rec["version"] == 1:
        try:
            res["usage_usec"] = int(_read(os.path.join(rec["paths"][0], "cpuacct.usage"))) // 1000
        except OSError:
            pass
    return res


def remove(rec: dict, timeout: float = 8.0) -> list[str]:
    """Kill what is left inside and rmdir; return errors (empty when clean)."""
    errors = []
    deadline = time.time() + timeout
    for p in rec["paths"]:
        if not os.path.basename(p).startswith(PREFIX):
            errors.append(f"refusing to remove foreign cgroup {p}")
            continue
        sig = signal.SIGTERM
        while os.path.isdir(p):
            for pid in procs({"paths": [p]}):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            try:
                os.rmdir(p)
                break
            except OSError as e:
                if time.time() > deadline:
                    errors.append(f"cannot remove cgroup {p}: {e}")
                    break
                time.sleep(0.1)
                if time.time() > deadline - timeout / 2:
                    sig = signal.SIGKILL
    return errors


def restore_controllers(records: list) -> list[str]:
    """v2: turn the cpu (memory) controller off again where create() (create_memory()) turned it on, once no bnk-*
    cgroup is left under that root; return errors (empty when the host is as it was)."""
    errors = []
    for control, controller in sorted({(r[k], c) for r in records for k, c in (("enabled_cpu_in", "cpu"), ("enabled_memory_in", "memory"))
                                       if r.get(k)}):
        root = os.path.dirname(control)
        if any(e.startswith(PREFIX) and os.path.isdir(os.path.join(root, e)) for e in os.listdir(root)):
            errors.append(f"{controller} controller left on in {control}: bnk-* cgroups remain under {root}")
            continue
        try:
            _write(control, "-" + controller)
        except OSError as e:
            errors.append(f"cannot turn the {controller} controller off again in {control} (turned on by the bed): {e}")
    return errors


def leftovers() -> list[str]:
    """Every bnk-* cgroup on any cgroup mount (v1 or v2)."""
    found = []
    for mnt, fstype, _ in _mounts():
        if fstype not in ("cgroup", "cgroup2"):
            continue
        try:
            for entry in os.listdir(mnt):
                if entry.startswith(PREFIX) and os.path.isdir(os.path.join(mnt, entry)):
                    found.append(os.path.join(mnt, entry))
        except OSError:
            pass
    return found
