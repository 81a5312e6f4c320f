"""bottleneck test-bed prediction service, FastAPI flavour (ASGI, uvicorn workers).

A small but real ML prediction service: POST /predict accepts an image (raw
JPEG/PNG body or multipart upload), a JSON tensor, or text; it preprocesses
the input (Pillow decode + resize, numpy normalisation, or tokenising) and runs
a scikit-learn MLP trained at start-up on generated data.  Every response
carries a W3C Server-Timing header with the phases queue, preprocess, model
and postprocess (names configurable, or no header at all: see compute.py).

The work itself (knobs, model, preprocessing, Server-Timing) lives in
compute.py, shared with the Flask flavour (wsgi_app.py). Here: the ASGI side,
where the CPU work runs in a thread pool of BNK_THREADS per process and
*queue* is the wait for one of those threads after the body was read.
"""
from __future__ import annotations

import json
import time
import uuid

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

import compute
from compute import MAX_INPUT, InputError

FLAVOUR = {"framework": "fastapi", "worker_class": "uvicorn"}
LIMITER: anyio.CapacityLimiter | None = None


class ServerTimingMiddleware:
    """Adds Server-Timing (unless BNK_SERVER_TIMING=0) and X-Request-Id to every
    HTTP response, whatever route or error produced it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        timings: dict = {}
        scope.setdefault("state", {})["timings"] = timings
        rid = None
        for k, v in scope.get("headers", []):
            if k == b"x-request-id":
                rid = v
                break
        if not rid:
            rid = uuid.uuid4().hex.encode()

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                st = compute.server_timing(timings)
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"server-timing", b"x-request-id")]
                if st is not None:
                    headers.append((b"server-timing", st.encode()))
                headers.append((b"x-request-id", rid))
                message = dict(message, headers=headers)
                if scope.get("path") == "/predict":
                    compute.log_timings(timings, message.get("status", 200))
            await send(message)

        await self.app(scope, receive, send_wrapper)


app = FastAPI(title="bottleneck test-bed prediction service")
app.add_middleware(ServerTimingMiddleware)


@app.on_event("startup")
async def _startup():
    global LIMITER
    LIMITER = anyio.CapacityLimiter(compute.THREADS)


def _err(status: int, msg: str) -> JSONResponse:
    return JSONResponse({"error": msg}, status_code=status)


async def _read_body(request: Request) -> bytes:
    cl = request.headers.get("content-length")
    if cl and cl.isdigit() and int(cl) > MAX_INPUT:
        raise InputError(413, f"input of {cl} bytes exceeds the limit of {MAX_INPUT}")
    chunks, n = [], 0
    async for chunk in request.stream():
        n += len(chunk)
        if n > MAX_INPUT:
            raise InputError(413, f"input exceeds the limit of {MAX_INPUT} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@app.post("/predict")
async def predict(request: Request):
    timings = request.scope["state"]["timings"]
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if ctype == "multipart/form-data":
            cl = request.headers.get("content-length")
            if cl and cl.isdigit() and int(cl) > MAX_INPUT:
                raise InputError(413, f"input of {cl} bytes exceeds the limit of {MAX_INPUT}")
            form = await request.form(max_part_size=MAX_INPUT)
            kind, payload = None, None
            for _, value in form.multi_items():
                if hasattr(value, "read"):
                    kind, payload = compute.parse_part(value.content_type, await value.read())
                    break
                if isinstance(value, str) and kind is None:
                    kind, payload = "text", value
            if kind is None:
                raise InputError(400, "multipart body without a part")
        else:
            kind, payload = compute.parse_body(ctype, await _read_body(request))
        t_ready = time.perf_counter()
        out = await anyio.to_thread.run_sync(compute.work, kind, payload, t_ready, timings,
                                             limiter=LIMITER)
        return JSONResponse(out)
    except InputError as e:
        return _err(e.status, str(e))
    except json.JSONDecodeError as e:
        return _err(400, f"bad JSON part: {e}")


@app.get("/health")
async def health():
    return compute.health(FLAVOUR)
