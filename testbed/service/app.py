"""bottleneck test-bed prediction service.

A small but real ML prediction service: POST /predict accepts an image (raw
JPEG/PNG body or multipart upload), a JSON tensor, or text; it preprocesses
the input (Pillow decode + resize, numpy normalisation, or tokenising) and runs
a scikit-learn MLP trained at start-up on generated data.  Every response
carries a W3C Server-Timing header with the phases queue, preprocess, model
and postprocess.

Every fault knob is an environment variable (serve.py maps flags onto them):

  BNK_THREADS            worker threads per process for the CPU work (default 4)
  BNK_MODEL_COST         forward passes per request (default 1)
  BNK_MODEL_BATCH        rows per forward pass (default 8)
  BNK_PREPROCESS_COST    resize+normalise passes per request (default 1)
  BNK_RESIZE             side of the resized image (default 224)
  BNK_RESIZE_FILTER      nearest|bilinear|bicubic|lanczos (default bilinear)
  BNK_DECODE_DRAFT       1 = let libjpeg downscale while decoding (cheap decode)
  BNK_GIL_LOOP           thousands of pure-Python loop iterations per request
                         in preprocessing (holds the GIL; default 0)
  BNK_MEM_PER_PIXEL      bytes kept forever per input pixel (default 0)
  BNK_MEM_CAP_MB         safety cap for the memory kept above (default 4096)
  BNK_MAX_INPUT_BYTES    413 above this body size (default 16 MiB)
  BNK_SEED               seed for data generation and training (default 7)
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import time
import uuid
import warnings
import zlib

import anyio
import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from PIL import Image


def _env_int(name: str, default: int) -> int:
    try:
        return int(float(os.environ.get(name, default)))
    except ValueError:
        return default


THREADS = max(1, _env_int("BNK_THREADS", 4))
MODEL_COST = max(1, _env_int("BNK_MODEL_COST", 1))
MODEL_BATCH = max(1, _env_int("BNK_MODEL_BATCH", 8))
PREPROCESS_COST = max(1, _env_int("BNK_PREPROCESS_COST", 1))
RESIZE = max(8, _env_int("BNK_RESIZE", 224))
FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
    "hamming": Image.Resampling.HAMMING,
}
RESIZE_FILTER_NAME = os.environ.get("BNK_RESIZE_FILTER", "bilinear").lower()
RESIZE_FILTER = FILTERS.get(RESIZE_FILTER_NAME, Image.Resampling.BILINEAR)
DECODE_DRAFT = os.environ.get("BNK_DECODE_DRAFT", "0") not in ("0", "", "false", "no")
GIL_LOOP = max(0, _env_int("BNK_GIL_LOOP", 0))
MEM_PER_PIXEL = max(0, _env_int("BNK_MEM_PER_PIXEL", 0))
MEM_CAP = _env_int("BNK_MEM_CAP_MB", 4096) * 1024 * 1024
MAX_INPUT = _env_int("BNK_MAX_INPUT_BYTES", 16 * 1024 * 1024)
SEED = _env_int("BNK_SEED", 7)

GRID = 8                      # images are pooled to GRID x GRID x 3 features
N_FEATURES = GRID * GRID * 3  # 192
N_CLASSES = 10
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
TOKEN_RE = re.compile(r"[a-z0-9]+")


def _train_model():
    """Train a small MLP on generated, learnable data (nothing downloaded)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(SEED)
    centers = rng.normal(0, 1, size=(N_CLASSES, N_FEATURES)).astype(np.float32)
    y = rng.integers(0, N_CLASSES, size=2000)
    X = centers[y] + rng.normal(0, 1.5, size=(2000, N_FEATURES)).astype(np.float32)
    clf = MLPClassifier(hidden_layer_sizes=(256, 128), max_iter=10,
                        random_state=SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return clf


_t = time.perf_counter()
MODEL = _train_model()
TRAIN_SECONDS = time.perf_counter() - _t
KEPT: list[bytes] = []      # memory kept per request (BNK_MEM_PER_PIXEL)
KEPT_BYTES = 0
LIMITER: anyio.CapacityLimiter | None = None


class InputError(Exception):
    def __init__(self, status: int, msg: str):
        super().__init__(msg)
        self.status = status


# ---------------------------------------------------------------- phases

def _keep_memory(pixels: int) -> None:
    global KEPT_BYTES
    if MEM_PER_PIXEL <= 0:
        return
    n = pixels * MEM_PER_PIXEL
    if KEPT_BYTES + n > MEM_CAP:
        return
    KEPT.append(b"\x01" * n)  # written, so it is resident
    KEPT_BYTES += n


def _gil_loop(feat: np.ndarray) -> float:
    """Pure-Python per-value loop: holds the GIL the whole time."""
    vals = feat.ravel().tolist()
    n = len(vals)
    acc = 0.0
    for i in range(GIL_LOOP * 1000):
        v = vals[i % n]
        acc += v * v if v > 0 else -v
    return acc


def preprocess_image(data: bytes) -> tuple[np.ndarray, dict]:
    try:
        img = Image.open(io.BytesIO(data))
        size = img.size
        if DECODE_DRAFT and img.format == "JPEG":
            img.draft("RGB", (RESIZE, RESIZE))
        img = img.convert("RGB")
    except Exception as e:  # noqa: BLE001 - any decode failure is the client's
        raise InputError(400, f"cannot decode image: {e}") from e
    _keep_memory(size[0] * size[1])
    feat = None
    for _ in range(PREPROCESS_COST):
        small = img.resize((RESIZE, RESIZE), RESIZE_FILTER)
        arr = np.asarray(small, dtype=np.float32) / 255.0
        arr = (arr - MEAN) / STD
        cell = RESIZE // GRID
        arr = arr[: cell * GRID, : cell * GRID]
        feat = arr.reshape(GRID, cell, GRID, cell, 3).mean(axis=(1, 3)).reshape(-1)
    if GIL_LOOP:
        _gil_loop(feat)
    return feat.astype(np.float32), {"kind": "image", "width": size[0], "height": size[1]}


def preprocess_text(text: str) -> tuple[np.ndarray, dict]:
    tokens = TOKEN_RE.findall(text.lower())
    feat = np.zeros(N_FEATURES, dtype=np.float32)
    for _ in range(PREPROCESS_COST):
        feat[:] = 0
        for tok in tokens:  # feature hashing of unigrams and bigrams
            feat[zlib.crc32(tok.encode()) % N_FEATURES] += 1.0
        for a, b in zip(tokens, tokens[1:]):
            feat[zlib.crc32(f"{a} {b}".encode()) % N_FEATURES] += 0.5
        if tokens:
            feat /= math.sqrt(float((feat * feat).sum())) or 1.0
    if GIL_LOOP:
        _gil_loop(feat)
    return feat, {"kind": "text", "tokens": len(tokens)}


def preprocess_tensor(obj) -> tuple[np.ndarray, dict]:
    if isinstance(obj, dict):
        if "text" in obj:
            return preprocess_text(str(obj["text"]))
        obj = obj.get("tensor", obj.get("inputs", obj.get("instances", obj.get("data"))))
    try:
        arr = np.asarray(obj, dtype=np.float32).ravel()
    except Exception as e:  # noqa: BLE001
        raise InputError(400, f"tensor is not numeric: {e}") from e
    if arr.size == 0:
        raise InputError(400, "empty tensor")
    feat = np.zeros(N_FEATURES, dtype=np.float32)
    for _ in range(PREPROCESS_COST):
        n = min(arr.size, N_FEATURES)
        feat[:n] = arr[:n]
        feat = (feat - feat.mean()) / (feat.std() + 1e-6)
    if GIL_LOOP:
        _gil_loop(feat)
    return feat, {"kind": "tensor", "values": int(arr.size)}


def run_model(feat: np.ndarray) -> np.ndarray:
    batch = np.tile(feat, (MODEL_BATCH, 1))
    probs = None
    for _ in range(MODEL_COST):
        probs = MODEL.predict_proba(batch)
    return probs[0]


def postprocess(probs: np.ndarray, info: dict) -> dict:
    top = np.argsort(probs)[::-1][:3]
    return {
        "class": int(top[0]),
        "top": [{"class": int(c), "score": round(float(probs[c]), 5)} for c in top],
        "input": info,
    }


def _work(kind: str, payload, t_ready: float, timings: dict) -> dict:
    t0 = time.perf_counter()
    timings["queue"] = t0 - t_ready
    if kind == "image":
        feat, info = preprocess_image(payload)
    elif kind == "text":
        feat, info = preprocess_text(payload)
    else:
        feat, info = preprocess_tensor(payload)
    t1 = time.perf_counter()
    timings["preprocess"] = t1 - t0
    probs = run_model(feat)
    t2 = time.perf_counter()
    timings["model"] = t2 - t1
    out = postprocess(probs, info)
    timings["postprocess"] = time.perf_counter() - t2
    return out


# ---------------------------------------------------------------- ASGI app

class ServerTimingMiddleware:
    """Adds Server-Timing (queue, preprocess, model, postprocess) and
    X-Request-Id to every HTTP response, whatever route or error produced it."""

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
                st = ", ".join(f"{p};dur={timings.get(p, 0.0) * 1000:.3f}"
                               for p in ("queue", "preprocess", "model", "postprocess"))
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"server-timing", b"x-request-id")]
                headers.append((b"server-timing", st.encode()))
                headers.append((b"x-request-id", rid))
                message = dict(message, headers=headers)
            await send(message)

        await self.app(scope, receive, send_wrapper)


app = FastAPI(title="bottleneck test-bed prediction service")
app.add_middleware(ServerTimingMiddleware)


@app.on_event("startup")
async def _startup():
    global LIMITER
    LIMITER = anyio.CapacityLimiter(THREADS)


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
                    data = await value.read()
                    pct = (value.content_type or "").lower()
                    if pct.startswith("text/"):
                        kind, payload = "text", data.decode("utf-8", "replace")
                    elif pct == "application/json":
                        kind, payload = "tensor", json.loads(data)
                    else:
                        kind, payload = "image", data
                    break
                if isinstance(value, str) and kind is None:
                    kind, payload = "text", value
            if kind is None:
                raise InputError(400, "multipart body without a part")
        else:
            body = await _read_body(request)
            if ctype == "application/json":
                try:
                    kind, payload = "tensor", json.loads(body)
                except ValueError as e:
                    raise InputError(400, f"bad JSON: {e}") from e
            elif ctype.startswith("text/"):
                kind, payload = "text", body.decode("utf-8", "replace")
            else:  # image/jpeg, image/png, application/octet-stream, none
                kind, payload = "image", body
        t_ready = time.perf_counter()
        out = await anyio.to_thread.run_sync(_work, kind, payload, t_ready, timings,
                                             limiter=LIMITER)
        return JSONResponse(out)
    except InputError as e:
        return _err(e.status, str(e))


@app.get("/health")
async def health():
    return {"status": "ok", "pid": os.getpid(), "train_seconds": round(TRAIN_SECONDS, 3),
            "kept_bytes": KEPT_BYTES,
            "knobs": {"threads": THREADS, "model_cost": MODEL_COST,
                      "model_batch": MODEL_BATCH, "preprocess_cost": PREPROCESS_COST,
                      "resize": RESIZE, "resize_filter": RESIZE_FILTER_NAME,
                      "decode_draft": DECODE_DRAFT, "gil_loop": GIL_LOOP,
                      "mem_per_pixel": MEM_PER_PIXEL, "max_input_bytes": MAX_INPUT}}
