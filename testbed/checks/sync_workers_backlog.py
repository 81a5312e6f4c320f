"""sync-workers-backlog: gunicorn sync workers close every connection after answering, and
each open connection pins one: with `workers` silent connections open a new request is not
answered. The listener's backlog is the configured one (ss Send-Q), and once the workers are
pinned the kernel queues backlog + 1 connections (ss Recv-Q) and drops the SYNs after."""
import time

from lib import Result, http_json, listener_queue, open_connections


def check(bed, sc, work):
    res = Result()
    workers = int(sc["service"]["workers"])
    backlog = int(sc["service"]["backlog"])
    svc = bed["service"]
    health = svc["url"] + "/health"
    res.expect(http_json(health) is not None, "the service answers before the connections are held")
    pinned, _, _ = open_connections(health, workers, request=False)
    time.sleep(0.3)
    _, answered, why = open_connections(health, 1, timeout=2)
    res.fig("served_with_workers_pinned", answered)
    res.expect(answered == 0, f"with {workers} silent connections open a new request is not answered ({why})")
    extra, connected, _ = open_connections(health, backlog + 20, request=False, timeout=0.5)
    q = listener_queue(svc.get("netns"), int(svc["port"]))
    for s in pinned + extra:
        s.close()
    res.fig("connected_after_pinning", connected)
    res.fig("accept_queue_and_backlog", q)
    res.expect(q is not None and q[1] == backlog, f"the listener's backlog is {backlog} ({q})")
    res.expect(q is not None and q[0] == backlog + 1, f"the accept queue filled to backlog + 1 ({q})")
    return res
