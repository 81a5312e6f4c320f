"""delayed-network (needs netem): latency >= 2x the one-way delay while the
service is fast. Where the kernel has no netem the suite instead asserts that
`bed up` failed loudly."""
from lib import Result, parse_duration, setup_from, wrk


def check(bed, sc, work):
    res = Result()
    files, ctype, conc, dur = setup_from(sc, work)
    delay_ms = parse_duration(sc["network"]["delay"]) * 1000
    r = wrk(bed["target"], files, ctype, connections=conc, duration=dur)
    res.fig("delay_ms", delay_ms)
    res.fig("p50_ms", r["p50_ms"])
    res.fig("server_ms", r["server_total_ms"])
    res.expect(r["p50_ms"] >= 2 * delay_ms * 0.9, "each request pays the round trip")
    res.expect(r["server_total_ms"] < 0.2 * r["p50_ms"], "service is fast")
    return res
