"""tiny-backlog: the service namespace's TCP counters show listen-queue
overflows and SYN drops, and the client's namespace shows SYN retransmits."""
from lib import Result, netstat_ext, setup_from, wrk


def check(bed, sc, work):
    res = Result()
    files, ctype, conc, dur = setup_from(sc, work)
    close = (sc.get("load") or {}).get("connection") == "close"
    pid = bed["service"]["pid"]
    n0 = netstat_ext(pid)
    c0 = netstat_ext(None).get("TCPSynRetrans", 0)
    r = wrk(bed["target"], files, ctype, connections=conc, duration=dur, close=close, timeout_s=10)
    n1 = netstat_ext(pid)
    syn_retrans = netstat_ext(None).get("TCPSynRetrans", 0) - c0
    ovf = n1.get("ListenOverflows", 0) - n0.get("ListenOverflows", 0)
    drops = n1.get("ListenDrops", 0) - n0.get("ListenDrops", 0)
    res.fig("backlog", sc["service"]["backlog"])
    res.fig("requests", r["requests"])
    res.fig("listen_overflows", ovf)
    res.fig("listen_drops", drops)
    res.fig("client_syn_retransmits", syn_retrans)
    res.fig("rps", r["rps"])
    res.fig("p50_ms", r["p50_ms"])
    res.fig("p99_ms", r["p99_ms"])
    res.fig("server_ms", r["server_total_ms"])
    res.expect(r["requests"] > 20, f"{r['requests']} requests")
    res.expect(ovf > 0 or drops > 0, f"accept queue overflowed ({ovf} overflows, {drops} drops)")
    # wrk times requests from the first byte written, after connect(): the
    # SYN retries (1 s each) show in the client's TCP counters, not in its latency
    res.expect(syn_retrans > 0, f"the load generator retransmitted {syn_retrans} SYNs (TcpExt TCPSynRetrans)")
    return res
