#!/usr/bin/env python3
"""Start the test-bed prediction service with its knobs as flags.

  serve.py [--server gunicorn|uvicorn] [--worker-class uvicorn|sync|gthread]
           [--host H] [--port P] [--workers N]
           [--threads N] [--backlog N] [--model-cost N] [--model-batch N]
           [--preprocess-cost N] [--resize N] [--resize-filter F] [--decode-draft]
           [--gil-loop N] [--mem-per-pixel N] [--max-input-bytes N] [--full-res-float]
           [--stall-every N] [--stall-seconds S] [--worker-timeout S]
           [--phase-names queue=wait,preprocess=decode+resize,model=inference]
           [--no-server-timing] [--timing-log FILE]

Flags become BNK_* environment variables (see compute.py), then the process
execs gunicorn or uvicorn, so its PID is the server's. Flavours:

  --server gunicorn --worker-class uvicorn   FastAPI app (app.py), uvicorn workers (default)
  --server gunicorn --worker-class sync      Flask app (wsgi_app.py), one request per process
  --server gunicorn --worker-class gthread   Flask app, --threads connections per process
  --server uvicorn                           FastAPI app under plain uvicorn
  --server grpc                              KServe v2 over gRPC (grpc_server.py), health on port + 1
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    p.add_argument("--server", choices=["gunicorn", "uvicorn", "grpc"], default="gunicorn")
    p.add_argument("--worker-class", choices=["uvicorn", "sync", "gthread"], default="uvicorn")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--backlog", type=int, default=2048)
    p.add_argument("--phase-names", default=None,
                   help="Server-Timing names, e.g. queue=wait,preprocess=decode+resize,model=inference")
    p.add_argument("--no-server-timing", action="store_true", help="send no Server-Timing header")
    p.add_argument("--timing-log", default=None, help="append per-request phase times (JSON lines) here")
    knobs = {
        "threads": ("BNK_THREADS", int), "model_cost": ("BNK_MODEL_COST", int),
        "model_batch": ("BNK_MODEL_BATCH", int),
        "preprocess_cost": ("BNK_PREPROCESS_COST", int), "resize": ("BNK_RESIZE", int),
        "resize_filter": ("BNK_RESIZE_FILTER", str), "gil_loop": ("BNK_GIL_LOOP", int),
        "mem_per_pixel": ("BNK_MEM_PER_PIXEL", int),
        "max_input_bytes": ("BNK_MAX_INPUT_BYTES", int),
        "stall_every": ("BNK_STALL_EVERY", int), "stall_seconds": ("BNK_STALL_SECONDS", float),
    }
    for name, (_, typ) in knobs.items():
        p.add_argument("--" + name.replace("_", "-"), type=typ, default=None)
    p.add_argument("--decode-draft", action="store_true")
    p.add_argument("--full-res-float", action="store_true")
    p.add_argument("--worker-timeout", type=int, default=120,
                   help="gunicorn --timeout: seconds a worker may go silent before the master kills it")
    a = p.parse_args(argv)
    if a.server in ("uvicorn", "grpc") and a.worker_class != "uvicorn":
        p.error(f"--worker-class {a.worker_class} needs --server gunicorn")
    env = dict(os.environ)
    for name, (var, _) in knobs.items():
        v = getattr(a, name)
        if v is not None:
            env[var] = str(v)
    if a.decode_draft:
        env["BNK_DECODE_DRAFT"] = "1"
    if a.full_res_float:
        env["BNK_FULL_RES_FLOAT"] = "1"
    if a.phase_names:
        sys.path.insert(0, HERE)
        from phases import parse_phase_names
        try:
            parse_phase_names(a.phase_names)
        except ValueError as e:
            p.error(str(e))
        env["BNK_PHASE_NAMES"] = a.phase_names
    if a.no_server_timing:
        env["BNK_SERVER_TIMING"] = "0"
    if a.timing_log:
        env["BNK_TIMING_LOG"] = a.timing_log
    env["BNK_WORKER_CLASS"] = a.worker_class
    # one BLAS thread per worker: CPU use is then what workers x threads say
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    env["PYTHONPATH"] = HERE + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("PYTHONUNBUFFERED", "1")
    py = sys.executable
    if a.server == "grpc":  # KServe v2 over gRPC (grpc_server.py): health on port + 1
        cmd = [py, os.path.join(HERE, "grpc_server.py"), "--host", a.host, "--port", str(a.port), "--workers", str(a.workers)]
    elif a.server == "gunicorn":
        if a.worker_class == "uvicorn":
            cmd = [py, "-m", "gunicorn", "app:app", "-k", "uvicorn_worker.UvicornWorker"]
        else:  # the Flask app, WSGI workers
            cmd = [py, "-m", "gunicorn", "wsgi_app:app", "-k", a.worker_class]
            if a.worker_class == "gthread":
                cmd += ["--threads", env.get("BNK_THREADS", "4")]
        cmd += ["-w", str(a.workers), "-b", f"{a.host}:{a.port}",
                "--backlog", str(a.backlog), "--preload", "--graceful-timeout", "3",
                "--timeout", str(a.worker_timeout), "--chdir", HERE]
    else:
        cmd = [py, "-m", "uvicorn", "app:app", "--host", a.host, "--port", str(a.port),
               "--workers", str(a.workers), "--backlog", str(a.backlog),
               "--app-dir", HERE, "--no-access-log"]
    os.execve(py, cmd, env)


if __name__ == "__main__":
    main()
