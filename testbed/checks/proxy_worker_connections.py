"""proxy-worker-connections: nginx runs with worker_connections 128 (its config); held
keep-alive client connections are served until the worker runs out of connection slots
(nginx logs "worker_connections are not enough" and closes idle keep-alive connections to
make room), so fewer than 128 of them still answer at the end: the listener and the upstream
connections count too. The service behind it still answers."""
import time

from lib import Result, get_head, http_json, open_connections


def check(bed, sc, work):
    res = Result()
    configured = int(sc["proxy"]["worker_connections"])
    with open(bed["proxy"]["config"]) as f:
        conf = f.read()
    res.expect(f"worker_connections {configured};" in conf, f"nginx.conf sets worker_connections {configured}")
    with open(bed["proxy"]["error_log"], "rb") as f:
        start = len(f.read())
    held, opened, why = open_connections(bed["target"], configured + 50, timeout=2)
    time.sleep(0.2)
    served = still_answering(held, bed["target"])
    with open(bed["proxy"]["error_log"], "rb") as f:
        log = f.read()[start:].decode(errors="replace")
    service_ok = http_json(bed["service"]["url"] + "/health") is not None
    for s in held:
        s.close()
    res.fig("worker_connections", configured)
    res.fig("client_connections_opened", opened)
    res.fig("client_connections_still_answering", served)
    res.fig("next_failed_with", why)
    res.expect(served < configured, f"fewer than {configured} client connections were served ({served})")
    res.expect(served >= configured // 2, f"but most of them ({served})")
    res.expect("worker_connections are not enough" in log, "nginx logged that worker_connections are not enough")
    res.expect(service_ok, "the service behind it still answered")
    return res



def still_answering(held, url):
    """How many of the held connections answer one more keep-alive GET."""
    answered = 0
    for s in held:
        try:
            get_head(s, url)
            answered += 1
        except (OSError, ConnectionError):
            pass
    return answered
