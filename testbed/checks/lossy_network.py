"""lossy-network: nftables drops packets, TCP retransmits, the tail jumps by
retransmission timeouts while the service stays fast.
`check_args`: `min_p99_ms` (100), `min_p99_vs_server` (10: p99 / mean service time)."""
import json
import subprocess

from lib import Result, setup_from, snmp_tcp, wrk


def nft_drops(table, ns):
    cmd = ["nft", "-j", "list", "table", "inet", table]
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    data = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    n = 0
    for item in data.get("nftables", []):
        for e in (item.get("rule") or {}).get("expr", []):
            if "counter" in e:
                n += e["counter"]["packets"]
    return n


def check(bed, sc, work):
    res = Result()
    args = sc.get("check_args") or {}
    min_p99 = float(args.get("min_p99_ms", 100))
    min_vs = float(args.get("min_p99_vs_server", 10))
    files, ctype, conc, dur = setup_from(sc, work)
    net = bed["network"]["faults"]
    table = net["nft_table"].split()[-1]
    ns = net["devices"][0]["netns"]
    d0 = nft_drops(table, ns)
    rt0 = snmp_tcp(None)["RetransSegs"] + snmp_tcp(bed["proxy"]["pid"])["RetransSegs"]
    r = wrk(bed["target"], files, ctype, connections=conc, duration=dur, timeout_s=20)
    rt1 = snmp_tcp(None)["RetransSegs"] + snmp_tcp(bed["proxy"]["pid"])["RetransSegs"]
    drops = nft_drops(table, ns) - d0
    res.fig("loss_percent", net["loss_percent"])
    res.fig("requests", r["requests"])
    res.fig("nft_dropped_packets", drops)
    res.fig("tcp_retrans_segs", rt1 - rt0)
    res.fig("p50_ms", r["p50_ms"])
    res.fig("p99_ms", r["p99_ms"])
    res.fig("server_ms", r["server_total_ms"])
    res.expect(r["requests"] > 50, f"{r['requests']} requests")
    res.expect(drops > 0, f"nftables dropped {drops} packets")
    res.expect(rt1 - rt0 > 0, f"{rt1 - rt0} TCP segments retransmitted (/proc/net/snmp)")
    res.expect(r["p99_ms"] > min_p99, f"p99 {r['p99_ms']:.0f} ms shows retransmission stalls (>{min_p99:g} ms)")
    res.expect(r["p99_ms"] > min_vs * max(1.0, r["server_total_ms"]),
               f"p99 >{min_vs:g}x service time ({r['server_total_ms']:.1f} ms)")
    return res
