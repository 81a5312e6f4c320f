"""Helpers for the ground-truth checks: independent measurements with wrk,
/proc, cgroup cpu.stat, nginx access logs and tcpdump.

A check module defines `check(bed: dict, sc: dict, work: str) -> Result`,
where `bed` is the JSON `bed up` printed, `sc` the scenario YAML and `work` a
scratch directory. It asserts the fault is really there, and returns the
figures it measured.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
TESTBED = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTBED, "bedlib"))
import procfs  # noqa: E402  (the bed's one /proc/PID/stat parser)

BED = os.path.join(TESTBED, "bed")
LUA = os.path.join(HERE, "wrk_report.lua")
CLK_TCK = os.sysconf("SC_CLK_TCK")


class CheckFailed(AssertionError):
    pass


class Result:
    def __init__(self):
        self.figures: dict = {}
        self.failures: list[str] = []
        self.asserts: list[str] = []

    def fig(self, name: str, value):
        if isinstance(value, float):
            value = round(value, 4)
        self.figures[name] = value
        return value

    def expect(self, cond: bool, what: str):
        self.asserts.append(("ok   " if cond else "FAIL ") + what)
        if not cond:
            self.failures.append(what)

    @property
    def ok(self) -> bool:
        return not self.failures


# ------------------------------------------------------------------ payloads

def parse_duration(s) -> float:
    s = str(s).strip()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)?", s)
    if not m:
        raise ValueError(f"bad duration {s!r}")
    v = float(m.group(1))
    return v / 1000 if m.group(2) == "ms" else v * 60 if m.group(2) == "m" else v


def _range(spec: str, default: tuple[int, int]) -> tuple[int, int]:
    if spec is None:
        return default
    if ".." in spec:
        a, b = spec.split("..", 1)
        return int(a), int(b)
    return int(spec), int(spec)


def make_payloads(spec: str, work: str, count: int = 4, seed: int = 1) -> tuple[list[str], str]:
    """Generate payload files from the Swift tool's payload syntax, e.g.
    `image:w=1024..2048,format=jpeg,quality=90,noise=1`, `text:words=50`,
    `tensor:n=192`, `kserve-v2:n=192` (a KServe v2 request for the bed's model). Returns
    (files, content type)."""
    kind, _, rest = spec.partition(":")
    opts = dict(kv.split("=", 1) for kv in rest.split(",") if "=" in kv)
    rng = np.random.default_rng(seed)
    os.makedirs(work, exist_ok=True)
    files = []
    count = int(opts.get("n", count))
    if kind == "image":
        wlo, whi = _range(opts.get("w"), (224, 224))
        hlo, hhi = _range(opts.get("h"), (wlo, whi))
        fmt = opts.get("format", "jpeg").lower()
        quality = int(opts.get("quality", 90))
        noise = float(opts.get("noise", 0.15))
        for i in range(count):
            t = i / max(1, count - 1)
            w = int(wlo + (whi - wlo) * t)
            h = int(hlo + (hhi - hlo) * t) if "h" in opts else w
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            base = np.stack([(xx / w) * 255, (yy / h) * 255,
                             (np.sin(xx / 37.0) * np.cos(yy / 23.0) * 0.5 + 0.5) * 255], axis=-1)
            img = base * (1 - noise) + rng.random((h, w, 3), dtype=np.float32) * 255 * noise
            im = Image.fromarray(img.clip(0, 255).astype(np.uint8))
            ext = "png" if fmt == "png" else "jpg"
            path = os.path.join(work, f"payload-{i}-{w}x{h}.{ext}")
            if fmt == "png":
                im.save(path, format="PNG", compress_level=1)
            else:
                im.save(path, format="JPEG", quality=quality)
            files.append(path)
        return files, "image/png" if fmt == "png" else "image/jpeg"
    if kind == "text":
        words = int(opts.get("words", 50))
        vocab = ["model", "latency", "queue", "proxy", "image", "token", "cat", "dog",
                 "network", "server", "gpu", "batch", "cache", "fast", "slow"]
        for i in range(count):
            path = os.path.join(work, f"payload-{i}.txt")
            with open(path, "w") as f:
                f.write(" ".join(rng.choice(vocab, size=words)))
            files.append(path)
        return files, "text/plain"
    if kind == "tensor":
        n = int(opts.get("n", 192))
        for i in range(count):
            path = os.path.join(work, f"payload-{i}.json")
            with open(path, "w") as f:
                json.dump({"tensor": rng.normal(size=n).round(4).tolist()}, f)
            files.append(path)
        return files, "application/json"
    if kind == "kserve-v2":  # the bed's KServe v2 model (service.api kserve-v2): FP32 [1, n]
        n = int(opts.get("n", 192))
        for i in range(count):
            path = os.path.join(work, f"payload-{i}.json")
            with open(path, "w") as f:
                json.dump({"inputs": [{"name": "features", "shape": [1, n], "datatype": "FP32",
                                       "data": rng.normal(size=n).round(6).tolist()}]}, f)
            files.append(path)
        return files, "application/json"
    if kind == "kserve-v2-grpc":  # the bed's model over gRPC (service.api kserve-v2-grpc): framed ModelInferRequest
        n = int(opts.get("n", 192))
        for i in range(count):
            path = os.path.join(work, f"payload-{i}.grpc")
            with open(path, "wb") as f:
                f.write(grpc_infer_request(rng.normal(size=n).astype("<f4")))
            files.append(path)
        return files, "application/grpc"
    raise ValueError(f"unknown payload kind in {spec!r}")


def grpc_infer_request(values) -> bytes:
    """One ModelInferRequest for the bed's toy-mlp (FP32 [1, n] in raw_input_contents), framed
    for a gRPC stream (5-byte prefix)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "service"))
    import kserve_v2_pb2 as pb
    tensor = pb.ModelInferRequest.InferInputTensor(name="features", datatype="FP32", shape=[1, len(values)])
    message = pb.ModelInferRequest(model_name="toy-mlp", inputs=[tensor], raw_input_contents=[values.tobytes()]).SerializeToString()
    return b"\x00" + len(message).to_bytes(4, "big") + message


def grpc_method_url(target: str, method: str = "ModelInfer") -> str:
    """grpc://HOST:PORT/… -> the h2c URL of an inference.GRPCInferenceService method (for h2load)."""
    authority = target.split("://", 1)[1].split("/", 1)[0]
    return f"http://{authority}/inference.GRPCInferenceService/{method}"


def h2load(target: str, files: list[str], connections: int = 2, duration: float = 3, streams: int = 1) -> dict:
    """Closed-loop gRPC unary calls with h2load (nghttp2): the first payload file's framed message
    posted to ModelInfer on `connections` connections x `streams` streams for `duration` s.
    Returns requests, ok (2xx), errors and rps. h2load counts HTTP status only: a call the server
    failed with a grpc-status in its trailers counts as ok here; check the server's statistics."""
    cmd = ["h2load", f"-c{connections}", f"-m{streams}", "-t1", f"-D{max(1, round(duration))}", "-d", files[0],
           "-H", "content-type: application/grpc", "-H", "te: trailers", grpc_method_url(target)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30)
    m = re.search(r"finished in ([\d.]+)(m?s)", p.stdout)
    r = re.search(r"requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored", p.stdout)
    codes = re.search(r"status codes: (\d+) 2xx", p.stdout)
    if not (m and r and codes):
        raise CheckFailed(f"h2load produced no report (rc={p.returncode}): {p.stdout[-500:]} {p.stderr[-300:]}")
    secs = float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)
    ok = int(codes.group(1))
    return {"requests": int(r.group(1)), "ok": ok, "errors": int(r.group(3)) + int(r.group(4)),
            "duration_s": secs, "rps": ok / secs if secs else 0.0}


def grpc_model_statistics(target: str) -> dict:
    """The bed's gRPC service's cumulative ModelStatistics: count and ms totals per phase."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "service"))
    import grpc
    import kserve_v2_pb2 as pb
    import kserve_v2_pb2_grpc as rpc
    authority = target.split("://", 1)[1].split("/", 1)[0]
    with grpc.insecure_channel(authority) as channel:
        reply = rpc.GRPCInferenceServiceStub(channel).ModelStatistics(pb.ModelStatisticsRequest(name="toy-mlp"), timeout=5)
    s = reply.model_stats[0].inference_stats
    return {"count": s.success.count, "queue": s.queue.ns / 1e6, "preprocess": s.compute_input.ns / 1e6,
            "model": s.compute_infer.ns / 1e6, "postprocess": s.compute_output.ns / 1e6}


def pixels_of(path: str) -> int:
    with Image.open(path) as im:
        return im.size[0] * im.size[1]


# ------------------------------------------------------------------ wrk

SEGMENTS = ("queue", "preprocess", "model", "postprocess")
# The bottleneck tool's default Server-Timing mapping (Sources/BottleneckDiagnosis/Analysis/
# ServerTimingSegments.swift): prefix, case-insensitive, the longest matching prefix wins,
# unmatched names are ignored. Scenarios choose phase names this mapping understands.
DEFAULT_PREFIXES = [
    ("queue", "queue"), ("wait", "queue"),
    ("pre", "preprocess"), ("decode", "preprocess"), ("resize", "preprocess"),
    ("tokeni", "preprocess"), ("normali", "preprocess"),
    ("model", "model"), ("infer", "model"), ("predict", "model"), ("forward", "model"),
    ("post", "postprocess"), ("serializ", "postprocess"), ("encode", "postprocess"),
]


def segment_of(name: str) -> str | None:
    low = name.lower()
    best = None
    for prefix, seg in DEFAULT_PREFIXES:
        if low.startswith(prefix) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), seg)
    return best[1] if best else None


def wrk(url: str, files: list[str], ctype: str, connections: int = 2, duration: float = 3,
        threads: int | None = None, close: bool = False, timeout_s: int = 10,
        wrapper: list[str] | None = None) -> dict:
    """Run wrk (bounded: -d duration, --timeout) and return its JSON report,
    with derived rps and latency in ms."""
    threads = threads or min(2, connections)
    env = dict(os.environ, BNK_BODIES=",".join(files), BNK_CTYPE=ctype,
               BNK_CLOSE="1" if close else "0")
    cmd = (wrapper or []) + ["wrk", "-t", str(threads), "-c", str(connections),
                             "-d", f"{max(1, round(duration))}s", "--timeout", f"{timeout_s}s",
                             "-s", LUA, url]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env,
                       timeout=duration + timeout_s + 30)
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("BNK_JSON ")), None)
    if line is None:
        raise CheckFailed(f"wrk produced no report (rc={p.returncode}): {p.stdout[-500:]} {p.stderr[-500:]}")
    r = json.loads(line[len("BNK_JSON "):])
    secs = r["duration_us"] / 1e6
    r["rps"] = r["requests"] / secs if secs else 0.0
    lat = r["latency_us"]
    r["p50_ms"], r["p90_ms"], r["p99_ms"] = lat["p50"] / 1e3, lat["p90"] / 1e3, lat["p99"] / 1e3
    r["mean_ms"] = lat["mean"] / 1e3
    st = r["server_timing"]
    n = max(1, st["n"])
    # per metric name as the service sent it, then summed into the four segments
    st["phase_ms"] = {k: v / n for k, v in st.get("phases", {}).items()}
    seg = {k: 0.0 for k in SEGMENTS}
    for name, total in st.get("phases", {}).items():
        s = segment_of(name)
        if s:
            seg[s] += total
    for k in SEGMENTS:
        st[k + "_ms"] = seg[k]
    r["server_ms"] = {k: seg[k] / n for k in SEGMENTS}
    r["server_total_ms"] = sum(r["server_ms"].values())
    r["errors_total"] = sum(r["errors"].values())
    return r


# ------------------------------------------------------------------ /proc

def tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    return [pid] + procfs.descendants(pid)


def cpu_seconds(pids: list[int]) -> float:
    """utime+stime of the processes (all their threads), in seconds."""
    total = 0
    for p in pids:
        try:
            f = procfs.stat_fields(p)
            total += int(f[11]) + int(f[12])
        except (OSError, IndexError):
            pass
    return total / CLK_TCK


def thread_cpu(pid: int) -> dict[int, float]:
    out = {}
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            try:
                fl = procfs.stat_fields(pid, int(t))
                out[int(t)] = (int(fl[11]) + int(fl[12])) / CLK_TCK
            except (OSError, IndexError):
                pass
    except OSError:
        pass
    return out


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def host_cpu() -> tuple[int, int]:
    """(busy, total) jiffies from /proc/stat."""
    with open("/proc/stat") as f:
        vals = [int(x) for x in f.readline().split()[1:]]
    idle = vals[3] + vals[4]
    return sum(vals) - idle, sum(vals)


def snmp_tcp(pid: int | None = None) -> dict:
    """TCP counters from /proc/PID/net/snmp (the PID's network namespace)."""
    path = f"/proc/{pid}/net/snmp" if pid else "/proc/net/snmp"
    with open(path) as f:
        lines = [ln.split() for ln in f if ln.startswith("Tcp:")]
    return dict(zip(lines[0][1:], (int(x) for x in lines[1][1:])))


def netstat_ext(pid: int | None = None) -> dict:
    path = f"/proc/{pid}/net/netstat" if pid else "/proc/net/netstat"
    with open(path) as f:
        lines = [ln.split() for ln in f if ln.startswith("TcpExt:")]
    return dict(zip(lines[0][1:], (int(x) for x in lines[1][1:])))


def tcp_states(pid: int, port: int | None = None) -> dict:
    """Count sockets per state in /proc/PID/net/tcp (optionally one port)."""
    names = {"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1",
             "05": "FIN_WAIT2", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT",
             "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING"}
    out: dict[str, int] = {}
    for fn in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{fn}") as f:
                next(f)
                for line in f:
                    parts = line.split()
                    lport = int(parts[1].split(":")[1], 16)
                    rport = int(parts[2].split(":")[1], 16)
                    if port and port not in (lport, rport):
                        continue
                    st = names.get(parts[3], parts[3])
                    out[st] = out.get(st, 0) + 1
        except OSError:
            pass
    return out


class Sampler:
    """Wall-clock bracket for CPU figures of a set of processes."""

    def __init__(self, pids: list[int]):
        self.pids = pids

    def __enter__(self):
        self.t0 = time.time()
        self.c0 = cpu_seconds(self.pids)
        self.h0 = host_cpu()
        self.th0 = {p: thread_cpu(p) for p in self.pids}
        return self

    def __exit__(self, *exc):
        self.wall = time.time() - self.t0
        self.cpu = cpu_seconds(self.pids) - self.c0
        h1 = host_cpu()
        busy, total = h1[0] - self.h0[0], h1[1] - self.h0[1]
        self.host_busy_frac = busy / total if total else 0.0
        self.cores = self.cpu / self.wall if self.wall else 0.0
        self.threads_busy = {}
        for p in self.pids:
            th1 = thread_cpu(p)
            self.threads_busy[p] = {t: th1[t] - self.th0[p].get(t, 0.0) for t in th1}
        return False


# ------------------------------------------------------------------ nginx, cgroups, capture

def nginx_log(path: str, since: float = 0.0) -> list[dict]:
    rows = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if float(r.get("time", 0)) < since:
                    continue
                for k in ("upstream_connect_time", "upstream_header_time", "upstream_response_time"):
                    v = r.get(k, "")
                    try:
                        r[k] = float(str(v).split(",")[-1].strip()) if v not in ("", "-") else None
                    except ValueError:
                        r[k] = None
                rows.append(r)
    except FileNotFoundError:
        pass
    return rows


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return float(np.percentile(np.asarray(values, dtype=float), q))


def cgroup_stat(path: str) -> dict:
    import cgroups
    version = 2 if os.path.exists(os.path.join(path, "cpu.max")) else 1
    paths = [path]
    if version == 1:
        acct = path.replace("/cpu/", "/cpuacct/", 1)
        if acct != path and os.path.isdir(acct):
            paths.append(acct)
    return cgroups.stat({"version": version, "paths": paths})


class Capture:
    """tcpdump in a namespace on an interface, bounded by -c and a timeout."""

    def __init__(self, work: str, netns: str | None, iface: str, bpf: str, max_packets: int = 200000):
        self.path = os.path.join(work, f"cap-{iface}.pcap")
        cmd = ["tcpdump", "-i", iface, "-nn", "-s", "96", "-U", "-w", self.path,
               "-c", str(max_packets), bpf]
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd
        self.cmd = cmd
        self.p = None

    def __enter__(self):
        self.p = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # wait until tcpdump says it is listening
        deadline = time.time() + 5
        while time.time() < deadline:
            if os.path.exists(self.path) and os.path.getsize(self.path) > 0:
                break
            time.sleep(0.05)
        time.sleep(0.3)
        return self

    def __exit__(self, *exc):
        time.sleep(0.3)
        self.p.terminate()
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        return False

    def count(self, bpf: str) -> int:
        p = subprocess.run(["tcpdump", "-nn", "-r", self.path, bpf], capture_output=True,
                           text=True, timeout=60)
        return len([ln for ln in p.stdout.splitlines() if ln.strip()])


def http_json(url: str, timeout: float = 5) -> dict:
    import urllib.request
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def post(url: str, path: str, ctype: str, timeout: float = 30) -> tuple[int, dict]:
    import urllib.request
    import urllib.error
    with open(path, "rb") as f:
        data = f.read()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": ctype}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers)


def server_share(r: dict, phase: str) -> float:
    tot = r["server_total_ms"]
    return r["server_ms"][phase] / tot if tot else 0.0


def sched_ns(pid: int) -> tuple[int, int]:
    """(on-CPU ns, runnable-but-waiting ns) summed over all threads of a
    process, from /proc/PID/task/*/schedstat."""
    run = wait = 0
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                    a, b, _ = f.read().split()
                run += int(a)
                wait += int(b)
            except (OSError, ValueError):
                pass
    except OSError:
        pass
    return run, wait


class Demand:
    """CPU demand of processes over a bracket: (run + runqueue wait) / wall.
    A value near 1 per process means it wanted a CPU the whole time: it used
    all the CPU it was given (the rest of the demand was spent waiting for one)."""

    def __init__(self, pids: list[int]):
        self.pids = pids

    def __enter__(self):
        self.t0 = time.time()
        self.s0 = {p: sched_ns(p) for p in self.pids}
        return self

    def __exit__(self, *exc):
        wall = time.time() - self.t0
        self.per_pid = {}
        for p in self.pids:
            r1, w1 = sched_ns(p)
            r0, w0 = self.s0[p]
            self.per_pid[p] = {"run_cores": (r1 - r0) / 1e9 / wall,
                               "wait_cores": (w1 - w0) / 1e9 / wall,
                               "demand": (r1 - r0 + w1 - w0) / 1e9 / wall}
        self.wall = wall
        return False


def workers_of(bed: dict) -> list[int]:
    """The service's worker processes (gunicorn/uvicorn children of the master)."""
    master = bed["service"]["pid"]
    kids = [p for p in tree(master) if p != master]
    return kids or [master]


def setup_from(sc: dict, work: str, spec: str | None = None, count: int = 4):
    files, ctype = make_payloads(spec or sc["payload"], work, count=count)
    load = sc.get("load") or {}
    return files, ctype, int(load.get("concurrency", 2)), parse_duration(load.get("duration", "3s"))


def timing_log(bed: dict, since: float = 0.0) -> list[dict]:
    """The service's own per-request phase log (BNK_TIMING_LOG; JSON lines, ms)."""
    rows = []
    path = (bed.get("service") or {}).get("timing_log")
    try:
        with open(path) as f:
            for line in f:
                try:
                    x = json.loads(line)
                except ValueError:
                    continue
                if x.get("t", 0) >= since:
                    rows.append(x)
    except (OSError, TypeError):
        pass
    return rows


def log_phases(rows: list[dict]) -> dict:
    """Mean ms per segment of timing-log rows (status 200 only)."""
    ok = [x for x in rows if x.get("status") == 200]
    n = max(1, len(ok))
    return {k: sum(x.get(k, 0.0) for x in ok) / n for k in SEGMENTS} | {"n": len(ok)}


def server_phases(bed: dict, r: dict, since: float, res: "Result | None" = None) -> tuple[dict, str]:
    """Mean ms per segment for the requests of a wrk run: from the Server-Timing
    headers wrk saw, or - when the scenario's service sends none - from the service's
    own timing log over the same interval. With `res`, also asserts the header is
    there as configured (absent when untimed; the configured names when renamed)."""
    svc = bed.get("service") or {}
    if svc.get("server_timing", True) is False:
        if res is not None:
            res.expect(r["server_timing"]["n"] == 0,
                       f"no Server-Timing header ({r['server_timing']['n']} responses carried one)")
        lp = log_phases(timing_log(bed, since))
        if res is not None:
            res.fig("timing_log_rows", lp["n"])
            res.expect(lp["n"] >= 0.8 * max(1, r["requests"] - 8) and lp["n"] > 0,
                       f"service timing log has {lp['n']} rows for {r['requests']} requests")
        return {k: lp[k] for k in SEGMENTS}, "service-log"
    if res is not None and svc.get("phase_names"):
        want = sorted(n for item in svc["phase_names"].split(",")
                      for n in item.partition("=")[2].split("+"))
        got = sorted(r["server_timing"].get("phases", {}))
        res.expect(all(w in got for w in want) and r["server_timing"]["n"] > 0,
                   f"Server-Timing carries the configured names {want} (got {got})")
    return dict(r["server_ms"]), "server-timing"


def shares(ms: dict) -> dict:
    tot = sum(ms.get(k, 0.0) for k in SEGMENTS)
    return {k: (ms.get(k, 0.0) / tot if tot else 0.0) for k in SEGMENTS}


def open_connections(url: str, count: int, request: bool = True, timeout: float = 1.5,
                     after_each=None) -> tuple[list, int, str]:
    """Opens up to `count` connections to `url`'s host one after another and keeps them open;
    with `request`, sends a keep-alive GET on each and waits for the response head. Stops at
    the first that fails; `after_each(n)` is called after each one served. Returns (the sockets,
    how many were served, how the next failed)."""
    import socket
    from urllib.parse import urlparse
    u = urlparse(url)
    held, why = [], "none failed"
    refreshed = time.time()
    for _ in range(count):
        if request and time.time() - refreshed > 1.0:
            # Keep the held ones inside the server's keep-alive timeout (uvicorn: 5 s) on a slow machine.
            try:
                for h in held:
                    get_head(h, url)
            except (OSError, ConnectionError) as e:
                why = f"a held connection failed: {type(e).__name__} {e}"
                break
            refreshed = time.time()
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect((u.hostname, u.port or 80))
            if request:
                get_head(s, url)
        except (OSError, ConnectionError) as e:
            why = type(e).__name__ if not str(e) else str(e)
            s.close()
            break
        held.append(s)
        if after_each:
            after_each(len(held))
    return held, len(held), why


def listener_queue(netns: str | None, port: int) -> tuple[int, int] | None:
    """(accept queue now, backlog) of the listener on `port`, from `ss -ltn` (Recv-Q, Send-Q)."""
    cmd = (["ip", "netns", "exec", netns] if netns else []) + ["ss", "-ltnH", f"sport = :{port}"]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            return int(parts[1]), int(parts[2])
    return None


def get_head(s, url: str) -> bytes:
    """Sends a keep-alive GET for `url` on socket `s` and reads up to the end of the response
    head; ConnectionError when the server closes first."""
    from urllib.parse import urlparse
    u = urlparse(url)
    s.sendall(f"GET {u.path or '/'} HTTP/1.1\r\nHost: {u.netloc}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data
