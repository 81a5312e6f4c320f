"""Test bed network: namespaces, veth links, and the faults put on them (tc, nftables)."""
from __future__ import annotations

import os
import re
import subprocess

from common import BedError, NFT_TABLE, State, sh


# topology (netns mode): three /30 links, addresses only inside what we create
NS_SVC, NS_PRX = "bnk-svc", "bnk-prx"


LINKS = {
    # name: (root/left side dev, left ns, left addr, right dev, right ns, right addr)
    "service": ("bnk-s0", None, "10.213.1.1", "bnk-s1", NS_SVC, "10.213.1.2"),
    "upstream": ("bnk-u0", NS_PRX, "10.213.2.1", "bnk-u1", NS_SVC, "10.213.2.2"),
    "client": ("bnk-p0", None, "10.213.3.1", "bnk-p1", NS_PRX, "10.213.3.2"),
}


def netns_pids(ns: str) -> list[int]:
    p = sh(["ip", "netns", "pids", ns], check=False)
    return [int(x) for x in p.stdout.split()] if p.returncode == 0 else []


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
