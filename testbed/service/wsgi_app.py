"""bottleneck test-bed prediction service, Flask flavour (WSGI, gunicorn sync or
gthread workers).

The same work as the FastAPI flavour (compute.py: Pillow/numpy preprocessing,
the scikit-learn MLP, Server-Timing), served the WSGI way: under `sync`
workers each process handles one request at a time and closes the connection
after it (waiting requests queue in the kernel's accept queue, which no phase
of Server-Timing sees); under `gthread` workers each process serves
`--threads` connections from a thread pool, with keep-alive. *queue* is the
wait for one of BNK_THREADS compute slots per process (a semaphore), so it is
~0 unless the compute slots are fewer than the server's threads.
"""
from __future__ import annotations

import os
import threading
import time
import uuid

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

import compute
from compute import MAX_INPUT, InputError

FLAVOUR = {"framework": "flask", "worker_class": os.environ.get("BNK_WORKER_CLASS", "sync")}
SLOTS = threading.BoundedSemaphore(compute.THREADS)

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = MAX_INPUT


@app.before_request
def _start():
    g.timings = {}
    g.rid = request.headers.get("X-Request-Id") or uuid.uuid4().hex


@app.after_request
def _headers(resp: Response) -> Response:
    timings = getattr(g, "timings", {})
    st = compute.server_timing(timings)
    resp.headers.pop("Server-Timing", None)
    if st is not None:
        resp.headers["Server-Timing"] = st
    resp.headers["X-Request-Id"] = getattr(g, "rid", None) or uuid.uuid4().hex
    if request.path == "/predict":
        compute.log_timings(timings, resp.status_code)
    return resp


@app.errorhandler(HTTPException)
def _http_error(e: HTTPException):
    if isinstance(e, RequestEntityTooLarge):
        msg = f"input exceeds the limit of {MAX_INPUT} bytes"
    else:
        msg = e.description or e.name
    return jsonify({"error": msg}), e.code


def _err(status: int, msg: str):
    return jsonify({"error": msg}), status


@app.post("/predict")
def predict():
    timings = g.timings
    ctype = (request.mimetype or "").lower()
    try:
        cl = request.content_length
        if cl is not None and cl > MAX_INPUT:
            raise InputError(413, f"input of {cl} bytes exceeds the limit of {MAX_INPUT}")
        if ctype == "multipart/form-data":
            kind, payload = None, None
            for _, f in request.files.items(multi=True):
                kind, payload = compute.parse_part(f.mimetype, f.read())
                break
            if kind is None:
                for _, v in request.form.items(multi=True):
                    kind, payload = "text", v
                    break
            if kind is None:
                raise InputError(400, "multipart body without a part")
        else:
            kind, payload = compute.parse_body(ctype, request.get_data(cache=False))
        t_ready = time.perf_counter()
        with SLOTS:
            out = compute.work(kind, payload, t_ready, timings)
        return jsonify(out)
    except InputError as e:
        return _err(e.status, str(e))
    except ValueError as e:  # a JSON part that is not JSON
        return _err(400, f"bad input: {e}")


@app.get("/health")
def health():
    return jsonify(compute.health(FLAVOUR))
