"""Test bed processes: the service and the proxy, started in their namespaces and cgroups, and stopped."""
from __future__ import annotations

import json
import os
import resource
import re
import shutil
import signal
import ssl
import string
import subprocess
import time
import urllib.error
import urllib.request

import cgroups
from common import BedError, PREFIX, PRX_PORT, STATE_DIR, STATE_FILE, SVC_PORT, State, TESTBED, VENV_PY, flat_port, log, sh
from procfs import descendants, proc_alive, proc_starttime
from network import LINKS, NS_PRX, NS_SVC, netns_pids


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


def spawn(state: State, name: str, cmd: list[str], ns: str | None, cg: dict | list | None,
          logpath: str, env: dict | None = None, nofile: int | None = None) -> int:
    """Start `cmd` in netns `ns` and cgroup(s) `cg` (one record or a list: a CPU and a memory cgroup),
    with `ulimit -n nofile` (soft and hard) when given."""
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    logf = open(logpath, "ab")
    groups = cg if isinstance(cg, list) else [cg] if cg else []

    def pre():
        for g in groups:
            cgroups.join(g)
        if nofile:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

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


def wait_http(url: str, pid: int, timeout: float, name: str, logpath: str, cafile: str | None = None) -> dict:
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
            context = ssl.create_default_context(cafile=cafile) if cafile else None
            with urllib.request.urlopen(url, timeout=2, context=context) as r:
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
                 "resize_filter", "gil_loop", "mem_per_pixel", "max_input_bytes", "stall_every",
                 "stall_seconds", "worker_timeout")


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


def start_service(state: State, sc: dict, netns: bool, rundir: str, cg: dict | list | None) -> dict:
    svc = sc["service"]
    first_cg = cg[0] if isinstance(cg, list) else cg
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
    if svc.get("full_res_float"):
        cmd.append("--full-res-float")
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
    nofile = int(svc["nofile"]) if svc.get("nofile") else None
    pid = spawn(state, "service", cmd, NS_SVC if netns else None, cg, logpath, nofile=nofile)
    addr = LINKS["service"][5] if netns else "127.0.0.1"
    grpc = svc.get("server") == "grpc"
    # The gRPC flavour answers KServe v2 over gRPC on the port and its health over HTTP on port + 1.
    url = f"{'grpc' if grpc else 'http'}://{addr}:{port}"
    health_url = f"http://{addr}:{port + 1 if grpc else port}/health"
    health = wait_http(health_url, pid, float(svc.get("start_timeout", 90)), "service", logpath)
    expected = int(svc.get("workers", 2))
    deadline = time.time() + 30
    kids = []
    while time.time() < deadline:  # all workers up, not just the first
        kids = descendants(pid)
        if len(kids) >= expected or svc.get("server") == "uvicorn":
            break
        time.sleep(0.2)
    return {"url": url, "health_url": health_url, "port": port, "pid": pid, "pids": [pid] + descendants(pid),
            "netns": NS_SVC if netns else None, "log": logpath, "health": health,
            "address": addr, "cgroup": first_cg["paths"][0] if first_cg else None,
            "server": str(svc.get("server", "gunicorn")), "worker_class": worker_class,
            "workers": expected, "threads": int(svc.get("threads", 4)),
            "server_timing": server_timing, "phase_names": phase_names or None,
            "timing_log": timing_log, "nofile": nofile, "backlog": int(svc.get("backlog", 2048))}


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
    addr = LINKS["client"][5] if netns else "127.0.0.1"
    tls = make_certificates(prefix, addr) if px.get("tls") else None
    with open(os.path.join(TESTBED, "proxy", "nginx.conf.template")) as f:
        tpl = string.Template(f.read())
    conf = tpl.safe_substitute(
        WORKERS=str(px.get("workers", 1)), UPSTREAM=upstream,
        WORKER_CONNECTIONS=str(int(px.get("worker_connections", 4096))),
        KEEPALIVE_BLOCK=f"keepalive {int(px.get('keepalive_connections', 32))};" if keepalive else "",
        CONN_HEADER="" if keepalive else "close", HTTP_VERSION="1.1" if keepalive else "1.0",
        BUFFERING="on" if px.get("buffering", True) else "off", LISTEN=listen, PREFIX=prefix,
        LISTEN_TLS="ssl" if tls else "",
        TLS_BLOCK=(f"ssl_certificate {tls['certificate']}; ssl_certificate_key {tls['key']}; "
                   "ssl_protocols TLSv1.2 TLSv1.3;") if tls else "",
        CLIENT_KEEPALIVE="65" if px.get("client_keepalive", True) else "0")
    confpath = os.path.join(prefix, "nginx.conf")
    with open(confpath, "w") as f:
        f.write(conf)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    sh([nginx, "-t", "-q", "-p", prefix, "-e", os.path.join(prefix, "error.log"), "-c", confpath])
    logpath = os.path.join(prefix, "stdout.log")
    pid = spawn(state, "proxy", [nginx, "-p", prefix, "-e", os.path.join(prefix, "error.log"),
                                 "-c", confpath], NS_PRX if netns else None, cg, logpath)
    url = f"{'https' if tls else 'http'}://{addr}:{port}"
    wait_http(url + "/health", pid, 30, "proxy", os.path.join(prefix, "error.log"),
              cafile=tls["ca"] if tls else None)
    return {"url": url, "port": port, "pid": pid, "pids": [pid] + descendants(pid),
            "netns": NS_PRX if netns else None, "config": confpath,
            "access_log": os.path.join(prefix, "access.log"),
            "error_log": os.path.join(prefix, "error.log"), "address": addr,
            "upstream": upstream, "keepalive": keepalive,
            "buffering": bool(px.get("buffering", True)),
            "workers": int(px.get("workers", 1)), "cgroup": cg["paths"][0] if cg else None,
            "worker_connections": int(px.get("worker_connections", 4096)),
            "tls": bool(tls), "ca": tls["ca"] if tls else None,
            "client_keepalive": bool(px.get("client_keepalive", True))}


def make_certificates(prefix: str, address: str) -> dict:
    """A CA of the bed's own and a server certificate it signed, for `address` (an IP SAN, as
    a client that dials the address checks) and localhost: what a TLS front presents. RSA 2048,
    the common default, whose private-key operation is what a handshake costs the front."""
    d = os.path.join(prefix, "tls")
    os.makedirs(d, exist_ok=True)
    ca_key, ca, key, csr, cert = (os.path.join(d, n) for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    ext = os.path.join(d, "san.ext")
    with open(ext, "w") as f:
        f.write(f"subjectAltName=IP:{address},IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    sh(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
        "-days", "2", "-subj", "/CN=bottleneck test-bed CA"])
    sh(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=localhost"])
    sh(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
        "-days", "2", "-extfile", ext])
    return {"ca": ca, "certificate": cert, "key": key}


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
