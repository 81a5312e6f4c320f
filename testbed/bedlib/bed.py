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
import glob
import json
import os
import re
import shutil
import signal
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cgroups  # noqa: E402

TESTBED = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIOS = os.path.join(TESTBED, "scenarios")
STATE_DIR = os.environ.get("BNK_STATE_DIR", "/run/bottleneck-testbed")
STATE_FILE = os.path.join(STATE_DIR, "state.json")
PREFIX = "bnk"
NFT_TABLE = "bnk_testbed"
VENV_PY = os.path.join(TESTBED, ".venv", "bin", "python")

# topology (netns mode): three /30 links, addresses only inside what we create
NS_SVC, NS_PRX = "bnk-svc", "bnk-prx"
LINKS = {
    # name: (root/left side dev, left ns, left addr, right dev, right ns, right addr)
    "service": ("bnk-s0", None, "10.213.1.1", "bnk-s1", NS_SVC, "10.213.1.2"),
    "upstream": ("bnk-u0", NS_PRX, "10.213.2.1", "bnk-u1", NS_SVC, "10.213.2.2"),
    "client": ("bnk-p0", None, "10.213.3.1", "bnk-p1", NS_PRX, "10.213.3.2"),
}
SVC_PORT, PRX_PORT = 8000, 8080


def free_port() -> int:
    """A currently free loopback port (flat mode), or BNK_FLAT_*_PORT."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


FLAT_PORTS: dict = {}


def flat_port(which: str) -> int:
    if which not in FLAT_PORTS:
        env = os.environ.get(f"BNK_FLAT_{which.upper()}_PORT")
        FLAT_PORTS[which] = int(env) if env else free_port()
    return FLAT_PORTS[which]


class BedError(Exception):
    """A failure that must stop the bed loudly (exit 4)."""


class Interrupted(BaseException):
    pass


def log(msg: str) -> None:
    print(f"bed: {msg}", file=sys.stderr, flush=True)


def sh(cmd: list[str], ns: str | None = None, check: bool = True, timeout: float = 30,
       capture: bool = True) -> subprocess.CompletedProcess:
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    p = subprocess.run(cmd, capture_output=capture, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise BedError(f"command failed ({p.returncode}): {' '.join(cmd)}\n{(p.stderr or '').strip()}")
    return p


# ------------------------------------------------------------------ state

class State:
    def __init__(self, data: dict | None = None):
        self.data = data or {"version": 1, "resources": [], "status": "starting"}

    @classmethod
    def load(cls) -> "State | None":
        try:
            with open(STATE_FILE) as f:
                return cls(json.load(f))
        except FileNotFoundError:
            return None

    def save(self) -> None:
        os.makedirs(STATE_DIR, exist_ok=True)
        tmp = STATE_FILE + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.data, f, indent=1)
        os.replace(tmp, STATE_FILE)

    def add(self, kind: str, **rec) -> dict:
        rec["kind"] = kind
        self.data["resources"].append(rec)
        self.save()
        return rec


def proc_starttime(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        return s[s.rfind(")") + 2:].split()[19]
    except (OSError, IndexError):
        return None


def proc_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        return s[s.rfind(")") + 2:].split()[0] not in ("Z", "X")
    except OSError:
        return False


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            ppid = int(s[s.rfind(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in children.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def kill_pids(pids: list[int], timeout: float = 6.0) -> list[int]:
    """SIGTERM, wait, SIGKILL; return the PIDs still alive."""
    pids = [p for p in pids if p > 1 and p != os.getpid()]
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.time() + timeout
    while time.time() < deadline and any(proc_alive(p) for p in pids):
        time.sleep(0.1)
    for p in pids:
        if proc_alive(p):
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
    deadline = time.time() + 3
    while time.time() < deadline and any(proc_alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if proc_alive(p)]


def netns_pids(ns: str) -> list[int]:
    p = sh(["ip", "netns", "pids", ns], check=False)
    return [int(x) for x in p.stdout.split()] if p.returncode == 0 else []


def teardown(state: State) -> list[str]:
    """Remove every recorded resource, newest first. Never raises."""
    errors: list[str] = []
    res = list(reversed(state.data.get("resources", [])))
    # 1. processes (and everything they forked), then whatever else lives in
    #    our namespaces or cgroups
    for r in res:
        if r["kind"] != "process":
            continue
        pid = r["pid"]
        if proc_starttime(pid) != r.get("starttime"):
            continue  # gone already, or the PID was reused by someone else
        victims = [pid] + descendants(pid)
        left = kill_pids(victims)
        if left:
            errors.append(f"{r.get('name')}: processes survived SIGKILL: {left}")
    for r in res:
        if r["kind"] == "netns":
            left = kill_pids(netns_pids(r["name"]))
            if left:
                errors.append(f"netns {r['name']}: processes survived: {left}")
    # 2. network faults, links, namespaces
    for r in res:
        try:
            if r["kind"] == "nft_table":
                p = sh(["nft", "list", "table", r["family"], r["name"]], ns=r.get("netns"), check=False)
                if p.returncode == 0:
                    sh(["nft", "delete", "table", r["family"], r["name"]], ns=r.get("netns"))
            elif r["kind"] == "qdisc":
                if r.get("netns") and not os.path.exists(f"/run/netns/{r['netns']}"):
                    continue
                p = sh(["ip", "link", "show", r["dev"]], ns=r.get("netns"), check=False)
                if p.returncode == 0:
                    sh(["tc", "qdisc", "del", "dev", r["dev"], "root"], ns=r.get("netns"), check=False)
            elif r["kind"] == "veth":
                if sh(["ip", "link", "show", r["dev"]], ns=r.get("netns"), check=False).returncode == 0:
                    sh(["ip", "link", "del", r["dev"]], ns=r.get("netns"))
            elif r["kind"] == "netns":
                if os.path.exists(f"/run/netns/{r['name']}"):
                    sh(["ip", "netns", "del", r["name"]])
            elif r["kind"] == "sysctl_restore":
                pass
        except (BedError, subprocess.TimeoutExpired) as e:
            errors.append(str(e))
    # 3. cgroups (after their processes are gone)
    for r in res:
        if r["kind"] == "cgroup":
            errors.extend(cgroups.remove(r))
    # Not an error that keeps the state file: the cgroups are gone; a controller another
    # cgroup now uses cannot be turned off, and the next `bed up` must still work.
    for warning in cgroups.restore_controllers([r for r in res if r["kind"] == "cgroup"]):
        log("warning: " + warning)
    # 4. files
    for r in res:
        if r["kind"] == "dir" and os.path.isdir(r["path"]) and PREFIX in os.path.basename(r["path"]):
            shutil.rmtree(r["path"], ignore_errors=True)
    return errors


# ------------------------------------------------------------------ scenarios

def scenario_path(name: str) -> str:
    if os.path.isfile(name):
        return name
    p = os.path.join(SCENARIOS, name + ".yaml")
    if not os.path.isfile(p):
        raise BedError(f"no scenario {name!r}; `bed list` shows them")
    return p


def load_scenario(name: str) -> dict:
    with open(scenario_path(name)) as f:
        sc = yaml.safe_load(f)
    for key in ("name", "faults", "expect"):
        if key not in sc:
            raise BedError(f"scenario {name}: missing key {key!r}")
    for key in ("service", "proxy", "network", "load_generator", "load"):
        sc.setdefault(key, {})
        if sc[key] is None:
            sc[key] = {}
    return sc


def all_scenarios() -> list[dict]:
    out = []
    for p in sorted(glob.glob(os.path.join(SCENARIOS, "*.yaml"))):
        with open(p) as f:
            out.append(yaml.safe_load(f))
    return out


# ------------------------------------------------------------------ network

def netem_available() -> tuple[bool, str]:
    """Probe `tc qdisc add ... netem` on a throw-away dummy in a throw-away netns."""
    ns = "bnk-probe"
    try:
        sh(["ip", "netns", "add", ns])
    except BedError as e:
        return False, str(e)
    try:
        sh(["ip", "link", "set", "lo", "up"], ns=ns)
        p = sh(["tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"], ns=ns, check=False)
        return p.returncode == 0, (p.stderr or "").strip()
    finally:
        sh(["ip", "netns", "del", ns], check=False)


def make_link(state: State, name: str) -> None:
    ldev, lns, laddr, rdev, rns, raddr = LINKS[name]
    cmd = ["ip", "link", "add", ldev]
    if lns:
        cmd += ["netns", lns]
    cmd += ["type", "veth", "peer", "name", rdev, "netns", rns]
    state.add("veth", dev=ldev, netns=lns, peer=rdev, peer_netns=rns, link=name)
    sh(cmd)
    for dev, ns, addr in ((ldev, lns, laddr), (rdev, rns, raddr)):
        sh(["ip", "addr", "add", f"{addr}/30", "dev", dev], ns=ns)
        sh(["ip", "link", "set", dev, "up"], ns=ns)


def build_netns(state: State, with_proxy: bool) -> None:
    for ns in (NS_SVC,) + ((NS_PRX,) if with_proxy else ()):
        if os.path.exists(f"/run/netns/{ns}"):
            raise BedError(f"network namespace {ns} already exists: run `bed down` or `bed clean`")
        state.add("netns", name=ns)
        sh(["ip", "netns", "add", ns])
        sh(["ip", "link", "set", "lo", "up"], ns=ns)
    make_link(state, "service")
    if with_proxy:
        make_link(state, "client")
        make_link(state, "upstream")


def parse_rate(rate) -> str:
    s = str(rate).strip().lower()
    if not re.fullmatch(r"\d+(\.\d+)?(bit|kbit|mbit|gbit|bps|kbps|mbps)", s):
        raise BedError(f"bad rate {rate!r} (e.g. 20mbit)")
    return s


def rate_bits(s: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit|bps|kbps|mbps)", s)
    v, u = float(m.group(1)), m.group(2)
    return v * {"bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "bps": 8, "kbps": 8e3, "mbps": 8e6}[u]


def apply_network_faults(state: State, net: dict, netns: bool) -> dict:
    applied = {}
    wanted = [k for k in ("rate", "loss", "delay") if net.get(k)]
    if not wanted:
        return applied
    if not netns:
        raise BedError(f"network faults {wanted} need network namespaces; drop --no-netns")
    link = net.get("link", "client")
    if link not in LINKS:
        raise BedError(f"unknown link {link!r}; one of {sorted(LINKS)}")
    ldev, lns, _, rdev, rns, _ = LINKS[link]
    if sh(["ip", "link", "show", ldev], ns=lns, check=False).returncode != 0:
        raise BedError(f"link {link} does not exist in this scenario (no proxy?)")
    ends = [(ldev, lns), (rdev, rns)]
    if net.get("delay"):
        ok, why = netem_available()
        if not ok:
            raise BedError(
                "network delay needs tc netem, which this kernel does not have "
                f"(`tc qdisc add ... netem` said: {why or 'unknown error'}). "
                "Bandwidth (TBF) and loss (nftables) work without it; use a scenario "
                "without `delay`, or a kernel with sch_netem.")
        delay = str(net["delay"])
        for dev, ns in ends:
            state.add("qdisc", dev=dev, netns=ns, qdisc="netem")
            cmd = ["tc", "qdisc", "add", "dev", dev, "root", "handle", "1:", "netem", "delay", delay]
            if net.get("rate"):
                cmd += ["rate", parse_rate(net["rate"])]
            sh(cmd, ns=ns)
        applied["delay"] = delay
        if net.get("rate"):
            applied["rate"] = parse_rate(net["rate"])
    elif net.get("rate"):
        rate = parse_rate(net["rate"])
        bits = rate_bits(rate)
        burst = max(16 * 1024, int(bits / 8 / 100))  # 10 ms worth, at least 16 KiB
        for dev, ns in ends:
            state.add("qdisc", dev=dev, netns=ns, qdisc="tbf")
            p = sh(["tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate", rate,
                    "burst", str(burst), "latency", str(net.get("tbf_latency", "2s"))],
                   ns=ns, check=False)
            if p.returncode != 0:
                raise BedError(f"TBF (tc qdisc tbf) is not available: {p.stderr.strip()}")
        applied["rate"] = rate
    if net.get("loss"):
        pct = float(net["loss"])
        if not 0 < pct < 100:
            raise BedError(f"loss must be a percentage in (0,100), got {pct}")
        per_mille = int(round(pct * 10))
        table = NFT_TABLE
        dev_ns = lns  # the left side lives in the root ns for client/service links
        rule_in = f'iifname "{ldev}" numgen random mod 1000 < {per_mille} counter drop'
        rule_out = f'oifname "{ldev}" numgen random mod 1000 < {per_mille} counter drop'
        script = (f"table inet {table} {{\n"
                  f"  chain bnk_in {{ type filter hook input priority -10; policy accept; {rule_in}; }}\n"
                  f"  chain bnk_out {{ type filter hook output priority -10; policy accept; {rule_out}; }}\n"
                  f"}}\n")
        if sh(["nft", "list", "table", "inet", table], ns=dev_ns, check=False).returncode == 0:
            raise BedError(f"nft table inet {table} already exists: run `bed clean`")
        state.add("nft_table", family="inet", name=table, netns=dev_ns)
        p = subprocess.run((["ip", "netns", "exec", dev_ns] if dev_ns else []) + ["nft", "-f", "-"],
                           input=script, capture_output=True, text=True, timeout=15)
        if p.returncode != 0:
            raise BedError(f"nftables random loss (numgen random) failed: {p.stderr.strip()}")
        applied["loss_percent"] = pct
        applied["nft_table"] = f"inet {table}"
    applied["link"] = link
    applied["devices"] = [{"dev": d, "netns": n} for d, n in ends]
    return applied


# ------------------------------------------------------------------ processes

def spawn(state: State, name: str, cmd: list[str], ns: str | None, cg: dict | None,
          logpath: str, env: dict | None = None) -> int:
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    logf = open(logpath, "ab")

    def pre():
        if cg:
            cgroups.join(cg)

    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                         start_new_session=True, preexec_fn=pre, env=env, close_fds=True)
    logf.close()
    st = None
    for _ in range(50):
        st = proc_starttime(p.pid)
        if st:
            break
        time.sleep(0.01)
    state.add("process", name=name, pid=p.pid, starttime=st, netns=ns, log=logpath,
              cmd=cmd)
    return p.pid


def wait_http(url: str, pid: int, timeout: float, name: str, logpath: str) -> dict:
    deadline = time.time() + timeout
    last = ""
    while time.time() < deadline:
        if not proc_alive(pid):
            tail = ""
            try:
                with open(logpath, errors="replace") as f:
                    tail = "".join(f.readlines()[-15:])
            except OSError:
                pass
            raise BedError(f"{name} exited during start-up; last log lines:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    body = r.read()
                    try:
                        return json.loads(body)
                    except ValueError:
                        return {}
        except (urllib.error.URLError, OSError, ValueError) as e:
            last = str(e)
        time.sleep(0.2)
    raise BedError(f"{name} not ready at {url} after {timeout:.0f}s ({last}); log: {logpath}")


SERVICE_KNOBS = ("threads", "model_cost", "model_batch", "preprocess_cost", "resize",
                 "resize_filter", "gil_loop", "mem_per_pixel", "max_input_bytes")


def phase_names_spec(names) -> str:
    """Scenario `phase_names: {preprocess: [decode, resize], model: inference, queue: wait}`
    (or already a string) -> serve.py's `--phase-names queue=wait,preprocess=decode+resize,...`."""
    if not names:
        return ""
    if isinstance(names, str):
        return names
    if not isinstance(names, dict):
        raise BedError(f"service.phase_names must be a mapping, got {names!r}")
    items = []
    for phase, value in names.items():
        parts = value if isinstance(value, list) else [value]
        items.append(f"{phase}={'+'.join(str(v) for v in parts)}")
    return ",".join(items)


def start_service(state: State, sc: dict, netns: bool, rundir: str, cg: dict | None) -> dict:
    svc = sc["service"]
    host = "0.0.0.0" if netns else "127.0.0.1"
    port = SVC_PORT if netns else flat_port("service")
    cmd = [VENV_PY, os.path.join(TESTBED, "service", "serve.py"),
           "--server", str(svc.get("server", "gunicorn")), "--host", host, "--port", str(port),
           "--workers", str(svc.get("workers", 2)), "--backlog", str(svc.get("backlog", 2048))]
    for k in SERVICE_KNOBS:
        if svc.get(k) is not None:
            cmd += ["--" + k.replace("_", "-"), str(svc[k])]
    if svc.get("decode_draft"):
        cmd.append("--decode-draft")
    worker_class = str(svc.get("worker_class", "uvicorn"))
    cmd += ["--worker-class", worker_class]
    phase_names = phase_names_spec(svc.get("phase_names"))
    if phase_names:
        cmd += ["--phase-names", phase_names]
    server_timing = svc.get("server_timing", True) not in (False, 0, "false", "off", "no")
    if not server_timing:
        cmd.append("--no-server-timing")
    timing_log = os.path.join(rundir, "service-timings.jsonl")
    cmd += ["--timing-log", timing_log]
    logpath = os.path.join(rundir, "service.log")
    pid = spawn(state, "service", cmd, NS_SVC if netns else None, cg, logpath)
    addr = LINKS["service"][5] if netns else "127.0.0.1"
    url = f"http://{addr}:{port}"
    health = wait_http(url + "/health", pid, float(svc.get("start_timeout", 90)), "service", logpath)
    expected = int(svc.get("workers", 2))
    deadline = time.time() + 30
    kids = []
    while time.time() < deadline:  # all workers up, not just the first
        kids = descendants(pid)
        if len(kids) >= expected or svc.get("server") == "uvicorn":
            break
        time.sleep(0.2)
    return {"url": url, "port": port, "pid": pid, "pids": [pid] + descendants(pid),
            "netns": NS_SVC if netns else None, "log": logpath, "health": health,
            "address": addr, "cgroup": cg["paths"][0] if cg else None,
            "server": str(svc.get("server", "gunicorn")), "worker_class": worker_class,
            "workers": expected, "threads": int(svc.get("threads", 4)),
            "server_timing": server_timing, "phase_names": phase_names or None,
            "timing_log": timing_log}


def start_proxy(state: State, sc: dict, netns: bool, rundir: str, cg: dict | None,
                service: dict) -> dict:
    px = sc["proxy"]
    prefix = os.path.join(rundir, "nginx")
    for d in ("tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
        os.makedirs(os.path.join(prefix, d), exist_ok=True)
    keepalive = bool(px.get("keepalive", True))
    upstream = (f"{LINKS['upstream'][5]}:{SVC_PORT}" if netns
                else f"127.0.0.1:{flat_port('service')}")
    port = PRX_PORT if netns else flat_port("proxy")
    listen = f"0.0.0.0:{port}" if netns else f"127.0.0.1:{port}"
    with open(os.path.join(TESTBED, "proxy", "nginx.conf.template")) as f:
        tpl = string.Template(f.read())
    conf = tpl.safe_substitute(
        WORKERS=str(px.get("workers", 1)), UPSTREAM=upstream,
        KEEPALIVE_BLOCK=f"keepalive {int(px.get('keepalive_connections', 32))};" if keepalive else "",
        CONN_HEADER="" if keepalive else "close", HTTP_VERSION="1.1" if keepalive else "1.0",
        BUFFERING="on" if px.get("buffering", True) else "off", LISTEN=listen, PREFIX=prefix)
    confpath = os.path.join(prefix, "nginx.conf")
    with open(confpath, "w") as f:
        f.write(conf)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    sh([nginx, "-t", "-q", "-p", prefix, "-e", os.path.join(prefix, "error.log"), "-c", confpath])
    logpath = os.path.join(prefix, "stdout.log")
    pid = spawn(state, "proxy", [nginx, "-p", prefix, "-e", os.path.join(prefix, "error.log"),
                                 "-c", confpath], NS_PRX if netns else None, cg, logpath)
    addr = LINKS["client"][5] if netns else "127.0.0.1"
    url = f"http://{addr}:{port}"
    wait_http(url + "/health", pid, 30, "proxy", os.path.join(prefix, "error.log"))
    return {"url": url, "port": port, "pid": pid, "pids": [pid] + descendants(pid),
            "netns": NS_PRX if netns else None, "config": confpath,
            "access_log": os.path.join(prefix, "access.log"),
            "error_log": os.path.join(prefix, "error.log"), "address": addr,
            "upstream": upstream, "keepalive": keepalive,
            "buffering": bool(px.get("buffering", True)),
            "workers": int(px.get("workers", 1)), "cgroup": cg["paths"][0] if cg else None}


# ------------------------------------------------------------------ commands

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
        service = start_service(state, sc, netns, rundir, cgs.get("service"))
        proxy = None
        if with_proxy:
            proxy = start_proxy(state, sc, netns, rundir, cgs.get("proxy"), service)
        faults = apply_network_faults(state, sc["network"], netns)
        front = proxy or service
        out = {
            "scenario": sc["name"], "culprit": sc["expect"].get("culprit"),
            "faults": sc.get("faults", []),
            "target": front["url"] + "/predict", "health": front["url"] + "/health",
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


def find_leftovers() -> dict:
    left: dict[str, list] = {}
    p = sh(["ip", "netns", "list"], check=False)
    ns = [line.split()[0] for line in p.stdout.splitlines() if line.startswith(PREFIX)]
    if ns:
        left["netns"] = ns
    p = sh(["ip", "-o", "link", "show"], check=False)
    links = [m.group(1) for m in re.finditer(r"^\d+: ([^:@]+)", p.stdout, re.M)
             if m.group(1).startswith(PREFIX)]
    if links:
        left["links"] = links
    p = sh(["tc", "qdisc", "show"], check=False)
    q = [line for line in p.stdout.splitlines() if f"dev {PREFIX}" in line]
    if q:
        left["qdiscs"] = q
    p = sh(["nft", "list", "tables"], check=False)
    t = [line for line in p.stdout.splitlines() if PREFIX in line]
    if t:
        left["nft_tables"] = t
    cg = cgroups.leftovers()
    if cg:
        left["cgroups"] = cg
    procs = []
    marker = os.path.join(TESTBED, "service").encode()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cl = f.read()
        except OSError:
            continue
        if (marker in cl or STATE_DIR.encode() + b"/bnk-run" in cl) and proc_alive(int(d)):
            text = cl.replace(b"\x00", b" ").decode(errors="replace")[:120]
            procs.append(f"{d} {text}")
    if procs:
        left["processes"] = procs
    if os.path.exists(STATE_FILE):
        left["state_file"] = [STATE_FILE]
    return left


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
