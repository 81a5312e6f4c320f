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
                if scope.get("path") in ("/predict", KSERVE_INFER):
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


# KServe v2 (Open Inference Protocol) REST, as Triton, KServe and MLServer serve it: the one
# model's metadata and its inference route. The input is the model's feature vector, FP32
# [-1, N_FEATURES]; the work is the same preprocess (tensor normalisation), model and
# postprocess as /predict, so the same phases show in Server-Timing.
KSERVE_MODEL = "toy-mlp"
KSERVE_INFER = f"/v2/models/{KSERVE_MODEL}/infer"
KSERVE_INPUT = {"name": "features", "datatype": "FP32", "shape": [-1, compute.N_FEATURES]}


def _v2_unknown(name: str) -> JSONResponse:
    return _err(404, f"Request for unknown model: '{name}' is not found")


@app.get("/v2/health/ready")
async def v2_ready():
    return JSONResponse({"ready": True})


@app.get("/v2/models/{name}")
async def v2_metadata(name: str):
    if name != KSERVE_MODEL:
        return _v2_unknown(name)
    return JSONResponse({"name": KSERVE_MODEL, "versions": ["1"], "platform": "scikit-learn",
                         "inputs": [KSERVE_INPUT],
                         "outputs": [{"name": "class", "datatype": "INT64", "shape": [-1, 1]}]})


def _v2_features(request: dict) -> list:
    """The data of the one input, checked against the metadata the way Triton checks it."""
    inputs = request.get("inputs") if isinstance(request, dict) else None
    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
        raise InputError(400, f"expected 1 input for model '{KSERVE_MODEL}'")
    got = inputs[0]
    if got.get("name") != KSERVE_INPUT["name"]:
        raise InputError(400, f"unexpected inference input '{got.get('name')}' for model '{KSERVE_MODEL}'")
    if got.get("datatype") != KSERVE_INPUT["datatype"]:
        raise InputError(400, f"input 'features' datatype {got.get('datatype')}, expected FP32")
    shape, data = got.get("shape"), got.get("data")
    if (not isinstance(shape, list) or len(shape) != 2 or shape[1] != compute.N_FEATURES
            or not isinstance(shape[0], int) or shape[0] < 1):
        raise InputError(400, f"unexpected shape for input 'features': {shape}, expected [-1,{compute.N_FEATURES}]")
    if not isinstance(data, list) or len(data) != shape[0] * shape[1]:
        raise InputError(400, f"input 'features' has {len(data) if isinstance(data, list) else 0} values, shape {shape} needs {shape[0] * shape[1]}")
    return data


@app.post("/v2/models/{name}/infer")
async def v2_infer(name: str, request: Request):
    if name != KSERVE_MODEL:
        return _v2_unknown(name)
    timings = request.scope["state"]["timings"]
    try:
        body = await _read_body(request)
        data = _v2_features(json.loads(body))
        t_ready = time.perf_counter()
        out = await anyio.to_thread.run_sync(compute.work, "tensor", data, t_ready, timings, limiter=LIMITER)
        return JSONResponse({"model_name": KSERVE_MODEL, "model_version": "1",
                             "outputs": [{"name": "class", "datatype": "INT64", "shape": [1, 1], "data": [out["class"]]}]})
    except InputError as e:
        return _err(e.status, str(e))
    except json.JSONDecodeError as e:
        return _err(400, f"failed to parse the request JSON: {e}")


@app.get("/health")
async def health():
    return compute.health(FLAVOUR)
