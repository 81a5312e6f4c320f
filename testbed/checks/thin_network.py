"""thin-network: the TBF qdisc is shaping, processing is cheap, and transfer
time dominates latency (nginx: request_time >> upstream_response_time)."""
import json
import os
import subprocess
import time

from lib import Result, nginx_log, pct, setup_from, wrk


def tc_stats(dev, ns):
    cmd = ["tc", "-s", "-j", "qdisc", "show", "dev", dev]
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    out = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    return next(q for q in out if q.get("kind") == "tbf")


def check(bed, sc, work):
    res = Result()
    files, ctype, conc, dur = setup_from(sc, work)
    net = bed["network"]["faults"]
    dev = net["devices"][0]
    size = sum(os.path.getsize(f) for f in files) / len(files)
    s0 = tc_stats(dev["dev"], dev["netns"])
    t0 = time.time()
    r = wrk(bed["target"], files, ctype, connections=conc, duration=dur, timeout_s=20)
    s1 = tc_stats(dev["dev"], dev["netns"])
    rows = [x for x in nginx_log(bed["proxy"]["access_log"], since=t0) if x["status"] == 200]
    req_t = [float(x["request_time"]) * 1000 for x in rows]
    up_t = [(x["upstream_response_time"] or 0) * 1000 for x in rows]
    rate_bps = float(net["rate"].replace("mbit", "e6").replace("kbit", "e3").replace("bit", ""))
    wire_ms = size * 8 / rate_bps * 1000
    sent = s1["bytes"] - s0["bytes"]
    res.fig("rate", net["rate"])
    res.fig("payload_bytes_avg", int(size))
    res.fig("wire_ms_per_payload", wire_ms)
    res.fig("requests", r["requests"])
    res.fig("mean_ms", r["mean_ms"])
    res.fig("p99_ms", r["p99_ms"])
    res.fig("server_ms", r["server_total_ms"])
    res.fig("server_share_of_latency", r["server_total_ms"] / max(1e-6, r["mean_ms"]))
    res.fig("nginx_request_ms_p50", pct(req_t, 50))
    res.fig("nginx_upstream_ms_p50", pct(up_t, 50))
    res.fig("tbf_bytes", sent)
    res.fig("tbf_overlimits", s1.get("overlimits", 0) - s0.get("overlimits", 0))
    res.fig("achieved_mbit", sent * 8 / max(1e-6, r["duration_us"] / 1e6) / 1e6)
    res.expect(r["requests"] >= 4 and r["errors_total"] == 0, f"{r['requests']} requests, no errors")
    res.expect(s1.get("overlimits", 0) - s0.get("overlimits", 0) > 0 or
               s1.get("requeues", 0) > s0.get("requeues", 0), "TBF queue was over its rate")
    res.expect(r["server_total_ms"] < 0.2 * r["mean_ms"],
               f"processing {r['server_total_ms']:.1f} ms < 20% of latency {r['mean_ms']:.1f} ms")
    res.expect(r["mean_ms"] > 0.7 * wire_ms,
               f"latency {r['mean_ms']:.0f} ms >= transfer time at the rate ({wire_ms:.0f} ms)")
    res.expect(rows and pct(up_t, 50) < 0.2 * pct(req_t, 50),
               "nginx: upstream time <20% of request time (reading the body dominates)")
    return res
