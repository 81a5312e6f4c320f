"""fd-limit: the service's worker runs with ulimit -n 256 (the kernel's /proc/PID/limits);
keep-alive connections are served until the worker holds 256 open files (/proc/PID/fd, the
most seen while they were opened), and the next one is not answered."""
import os

from lib import Result, open_connections, workers_of


def check(bed, sc, work):
    res = Result()
    nofile = int(sc["service"]["nofile"])
    worker = workers_of(bed)[0]
    with open(f"/proc/{worker}/limits") as f:
        soft = next(int(line.split()[3]) for line in f if line.startswith("Max open files"))
    at_rest = len(os.listdir(f"/proc/{worker}/fd"))
    most = [at_rest]

    def sample(_):
        try:
            most[0] = max(most[0], len(os.listdir(f"/proc/{worker}/fd")))
        except OSError:
            pass
    held, served, why = open_connections(bed["target"], nofile + 50, timeout=2, after_each=sample)
    sample(None)
    at_limit = most[0]
    for s in held:
        s.close()
    res.fig("nofile", soft)
    res.fig("fds_at_rest", at_rest)
    res.fig("connections_served", served)
    res.fig("fds_at_limit", at_limit)
    res.fig("next_failed_with", why)
    res.expect(soft == nofile, f"the worker's soft open-file limit is {nofile} ({soft})")
    res.expect(at_limit == nofile, f"the worker held {nofile} files at the limit ({at_limit})")
    res.expect(nofile - at_rest - 3 <= served <= nofile - at_rest + 3,
               f"about {nofile} - {at_rest} connections were served ({served})")
    return res
