#!/usr/bin/env python3
"""Runs a command, and reports the CPU time the OS charged to it (user+sys, from wait4),
its peak RSS, and its RSS over time (sampled from /proc every --sample seconds).

Usage: run_measured.py [--sample S] -- COMMAND...
Prints one JSON object on the last line of stdout; the command's stdout goes to stderr-prefixed file.
"""
import json, os, subprocess, sys, time

def main():
    args = sys.argv[1:]
    sample = 0.0
    if args[:1] == ["--sample"]:
        sample = float(args[1]); args = args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    out_path = os.environ.get("BENCH_STDOUT", "/dev/null")
    with open(out_path, "w") as out:
        start = time.monotonic()
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.DEVNULL)
        rss = []
        next_sample = start + sample if sample else None
        while True:
            # Without RSS sampling, block: a poller waking 20 times a second is noise on the
            # generator's CPU in the open-loop runs.
            pid, status, usage = os.wait4(proc.pid, 0 if next_sample is None else os.WNOHANG)
            if pid == proc.pid:
                break
            now = time.monotonic()
            if next_sample and now >= next_sample:
                try:
                    with open(f"/proc/{proc.pid}/status") as f:
                        for line in f:
                            if line.startswith("VmRSS:"):
                                rss.append([round(now - start, 1), int(line.split()[1]) * 1024])
                except FileNotFoundError:
                    pass
                next_sample += sample
            time.sleep(0.05)
        wall = time.monotonic() - start
    print(json.dumps({
        "exit": os.waitstatus_to_exitcode(status),
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "user_seconds": usage.ru_utime, "sys_seconds": usage.ru_stime,
        "peak_rss_bytes": usage.ru_maxrss * 1024, "wall_seconds": wall, "rss_samples": rss,
    }))

main()
