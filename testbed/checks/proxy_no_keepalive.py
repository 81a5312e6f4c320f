"""proxy-no-keepalive: a new upstream TCP connection per request (SYNs on the
proxy->service veth counted with tcpdump) and TIME_WAIT sockets piling up."""
import time

from lib import Capture, Result, nginx_log, setup_from, tcp_states, wrk


def check(bed, sc, work):
    res = Result()
    files, ctype, conc, dur = setup_from(sc, work)
    close = (sc.get("load") or {}).get("connection") == "close"
    prx = bed["proxy"]
    up_dev = bed["network"]["links"]["upstream"]["left"]["dev"]
    t0 = time.time()
    with Capture(work, prx["netns"], up_dev, "tcp port 8000") as cap:
        r = wrk(bed["target"], files, ctype, connections=conc, duration=dur, close=close)
    syns = cap.count("tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn")
    rows = [x for x in nginx_log(prx["access_log"], since=t0)]
    tw = tcp_states(prx["pid"], 8000).get("TIME_WAIT", 0) + \
        tcp_states(bed["service"]["pid"], 8000).get("TIME_WAIT", 0)
    ratio = syns / max(1, r["requests"])
    res.fig("requests", r["requests"])
    res.fig("rps", r["rps"])
    res.fig("p99_ms", r["p99_ms"])
    res.fig("upstream_syns", syns)
    res.fig("upstream_syn_per_request", ratio)
    res.fig("time_wait_sockets", tw)
    res.fig("nginx_upstream_connect_ms_p99",
            1000 * sorted(x["upstream_connect_time"] or 0 for x in rows)[int(0.99 * (len(rows) - 1))] if rows else None)
    res.expect(r["errors_total"] == 0 or r["errors"]["connect"] == 0, "no connect errors")
    res.expect(r["requests"] > 50, f"{r['requests']} requests")
    res.expect(ratio > 0.9, f"{ratio:.2f} upstream SYNs per request (>0.9: no upstream keep-alive)")
    res.expect(tw > 0.5 * r["requests"], f"{tw} TIME_WAIT sockets on the upstream port")
    return res
