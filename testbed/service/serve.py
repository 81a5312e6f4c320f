#!/usr/bin/env python3
"""Start the test-bed prediction service with its knobs as flags.

  serve.py [--server gunicorn|uvicorn] [--host H] [--port P] [--workers N]
           [--threads N] [--backlog N] [--model-cost N] [--model-batch N]
           [--preprocess-cost N] [--resize N] [--resize-filter F] [--decode-draft]
           [--gil-loop N] [--mem-per-pixel N] [--max-input-bytes N]

Flags become BNK_* environment variables (see app.py), then the process
execs gunicorn (with uvicorn workers) or uvicorn, so its PID is the server's.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    p.add_argument("--server", choices=["gunicorn", "uvicorn"], default="gunicorn")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--backlog", type=int, default=2048)
    knobs = {
        "threads": ("BNK_THREADS", int), "model_cost": ("BNK_MODEL_COST", int),
        "model_batch": ("BNK_MODEL_BATCH", int),
        "preprocess_cost": ("BNK_PREPROCESS_COST", int), "resize": ("BNK_RESIZE", int),
        "resize_filter": ("BNK_RESIZE_FILTER", str), "gil_loop": ("BNK_GIL_LOOP", int),
        "mem_per_pixel": ("BNK_MEM_PER_PIXEL", int),
        "max_input_bytes": ("BNK_MAX_INPUT_BYTES", int),
    }
    for name, (_, typ) in knobs.items():
        p.add_argument("--" + name.replace("_", "-"), type=typ, default=None)
    p.add_argument("--decode-draft", action="store_true")
    a = p.parse_args(argv)
    env = dict(os.environ)
    for name, (var, _) in knobs.items():
        v = getattr(a, name)
        if v is not None:
            env[var] = str(v)
    if a.decode_draft:
        env["BNK_DECODE_DRAFT"] = "1"
    # one BLAS thread per worker: CPU use is then what workers x threads say
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    env["PYTHONPATH"] = HERE + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("PYTHONUNBUFFERED", "1")
    py = sys.executable
    if a.server == "gunicorn":
        cmd = [py, "-m", "gunicorn", "app:app", "-k", "uvicorn_worker.UvicornWorker",
               "-w", str(a.workers), "-b", f"{a.host}:{a.port}",
               "--backlog", str(a.backlog), "--preload", "--graceful-timeout", "3",
               "--timeout", "120", "--chdir", HERE]
    else:
        cmd = [py, "-m", "uvicorn", "app:app", "--host", a.host, "--port", str(a.port),
               "--workers", str(a.workers), "--backlog", str(a.backlog),
               "--app-dir", HERE, "--no-access-log"]
    os.execve(py, cmd, env)


if __name__ == "__main__":
    main()
