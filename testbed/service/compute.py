"""The real work of the test-bed prediction service, shared by its two flavours.

`app.py` (FastAPI under uvicorn workers) and `wsgi_app.py` (Flask under
gunicorn sync or gthread workers) both import this module: knobs, the
scikit-learn MLP trained at import time, Pillow/numpy preprocessing, the model
call, postprocessing, request-body parsing and the Server-Timing header.

Phases measured for every request (seconds, in `timings`):
  queue        wait for a compute slot after the body was read (BNK_THREADS per process)
  decode       image decode (Pillow open + convert), text tokenising, tensor parsing
  resize       resize + normalise + pool to features (and the GIL loop), text hashing,
               tensor normalisation
  model        forward passes of the MLP
  postprocess  top-3 and the JSON answer
`preprocess` is decode + resize.

Every knob is an environment variable (serve.py maps flags onto them):

  BNK_THREADS            compute slots (threads) per process (default 4)
  BNK_MODEL_COST         forward passes per request (default 1)
  BNK_MODEL_BATCH        rows per forward pass (default 8)
  BNK_PREPROCESS_COST    resize+normalise passes per request (default 1)
  BNK_RESIZE             side of the resized image (default 224)
  BNK_RESIZE_FILTER      nearest|bilinear|bicubic|lanczos|box|hamming (default bilinear)
  BNK_DECODE_DRAFT       1 = let libjpeg downscale while decoding (cheap decode)
  BNK_GIL_LOOP           thousands of pure-Python loop iterations per request
                         in preprocessing (holds the GIL; default 0)
  BNK_MEM_PER_PIXEL      bytes kept forever per input pixel (default 0)
  BNK_MEM_CAP_MB         safety cap for the memory kept above (default 4096)
  BNK_FULL_RES_FLOAT     1 = normalise the whole decoded image as float32 before
                         pooling it (about 15 bytes per input pixel at once, besides
                         the decoded RGB): memory follows the input's size
  BNK_STALL_EVERY        one request in N (at random, seeded) stalls in the model
                         for BNK_STALL_SECONDS (default 0: never)
  BNK_STALL_SECONDS      how long a stall lasts (default 5)
  BNK_MAX_INPUT_BYTES    413 above this body size (default 16 MiB)
  BNK_SEED               seed for data generation and training (default 7)
  BNK_SERVER_TIMING      0 = send no Server-Timing header at all (default 1)
  BNK_PHASE_NAMES        names in the Server-Timing header, e.g.
                         "queue=wait,preprocess=decode+resize,model=inference";
                         `preprocess=A+B` splits preprocessing into two metrics
                         (A = decode, B = resize); unnamed phases keep their name
  BNK_TIMING_LOG         append one JSON line per request with the phase times (ms)
                         to this file (the ground-truth checks read it when the
                         service sends no Server-Timing)
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import threading
import time
import warnings
import zlib

import numpy as np
from PIL import Image

from phases import PHASES, parse_phase_names


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
FULL_RES_FLOAT = os.environ.get("BNK_FULL_RES_FLOAT", "0") not in ("0", "", "false", "no")
STALL_EVERY = max(0, _env_int("BNK_STALL_EVERY", 0))
STALL_SECONDS = float(os.environ.get("BNK_STALL_SECONDS", "5"))
MAX_INPUT = _env_int("BNK_MAX_INPUT_BYTES", 16 * 1024 * 1024)
SEED = _env_int("BNK_SEED", 7)
SERVER_TIMING = os.environ.get("BNK_SERVER_TIMING", "1").lower() not in ("0", "", "false", "no", "off")
TIMING_LOG = os.environ.get("BNK_TIMING_LOG") or None

GRID = 8                      # images are pooled to GRID x GRID x 3 features
N_FEATURES = GRID * GRID * 3  # 192
N_CLASSES = 10
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
TOKEN_RE = re.compile(r"[a-z0-9]+")
PHASE_NAMES = parse_phase_names(os.environ.get("BNK_PHASE_NAMES"))


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
_KEPT_LOCK = threading.Lock()


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
    with _KEPT_LOCK:
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


def preprocess_image(data: bytes, timings: dict) -> tuple[np.ndarray, dict]:
    t0 = time.perf_counter()
    try:
        img = Image.open(io.BytesIO(data))
        size = img.size
        if DECODE_DRAFT and img.format == "JPEG":
            img.draft("RGB", (RESIZE, RESIZE))
        img = img.convert("RGB")
    except Exception as e:  # noqa: BLE001 - any decode failure is the client's
        raise InputError(400, f"cannot decode image: {e}") from e
    _keep_memory(size[0] * size[1])
    timings["decode"] = time.perf_counter() - t0
    if FULL_RES_FLOAT:
        return _pool_full_resolution(img), {"kind": "image", "width": size[0], "height": size[1]}
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


def _pool_full_resolution(img) -> np.ndarray:
    """Normalise the whole image as float32, then pool it: what a preprocessing that
    resizes last does. Peak memory is the decoded RGB plus 12 bytes per pixel."""
    arr = np.asarray(img, dtype=np.float32)
    arr /= 255.0
    arr -= MEAN
    arr /= STD
    h, w = arr.shape[0] // GRID * GRID, arr.shape[1] // GRID * GRID
    feat = arr[:h, :w].reshape(GRID, h // GRID, GRID, w // GRID, 3).mean(axis=(1, 3)).reshape(-1)
    return feat.astype(np.float32)


def preprocess_text(text: str, timings: dict) -> tuple[np.ndarray, dict]:
    t0 = time.perf_counter()
    tokens = TOKEN_RE.findall(text.lower())
    timings["decode"] = time.perf_counter() - t0
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


def preprocess_tensor(obj, timings: dict) -> tuple[np.ndarray, dict]:
    if isinstance(obj, dict):
        if "text" in obj:
            return preprocess_text(str(obj["text"]), timings)
        obj = obj.get("tensor", obj.get("inputs", obj.get("instances", obj.get("data"))))
    t0 = time.perf_counter()
    try:
        arr = np.asarray(obj, dtype=np.float32).ravel()
    except Exception as e:  # noqa: BLE001
        raise InputError(400, f"tensor is not numeric: {e}") from e
    if arr.size == 0:
        raise InputError(400, "empty tensor")
    timings["decode"] = time.perf_counter() - t0
    feat = np.zeros(N_FEATURES, dtype=np.float32)
    for _ in range(PREPROCESS_COST):
        n = min(arr.size, N_FEATURES)
        feat[:n] = arr[:n]
        feat = (feat - feat.mean()) / (feat.std() + 1e-6)
    if GIL_LOOP:
        _gil_loop(feat)
    return feat, {"kind": "tensor", "values": int(arr.size)}


_STALL_RNG = np.random.default_rng(SEED + os.getpid())


def run_model(feat: np.ndarray) -> np.ndarray:
    if STALL_EVERY and _STALL_RNG.random() < 1.0 / STALL_EVERY:
        time.sleep(STALL_SECONDS)  # a stuck call: a lock, a download, a device that hangs
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


def work(kind: str, payload, t_ready: float, timings: dict) -> dict:
    """Preprocess, model, postprocess one input; fills `timings` (seconds)."""
    t0 = time.perf_counter()
    timings["queue"] = t0 - t_ready
    if kind == "image":
        feat, info = preprocess_image(payload, timings)
    elif kind == "text":
        feat, info = preprocess_text(payload, timings)
    else:
        feat, info = preprocess_tensor(payload, timings)
    t1 = time.perf_counter()
    timings["preprocess"] = t1 - t0
    timings.setdefault("decode", 0.0)
    timings["resize"] = max(0.0, timings["preprocess"] - timings["decode"])
    probs = run_model(feat)
    t2 = time.perf_counter()
    timings["model"] = t2 - t1
    out = postprocess(probs, info)
    timings["postprocess"] = time.perf_counter() - t2
    return out


# ---------------------------------------------------------------- HTTP helpers

def parse_body(ctype: str, body: bytes) -> tuple[str, object]:
    """(kind, payload) of a non-multipart body by its Content-Type."""
    if ctype == "application/json":
        try:
            return "tensor", json.loads(body)
        except ValueError as e:
            raise InputError(400, f"bad JSON: {e}") from e
    if ctype.startswith("text/"):
        return "text", body.decode("utf-8", "replace")
    return "image", body  # image/jpeg, image/png, application/octet-stream, none


def parse_part(part_ctype: str, data: bytes) -> tuple[str, object]:
    """(kind, payload) of the first file part of a multipart body."""
    pct = (part_ctype or "").lower()
    if pct.startswith("text/"):
        return "text", data.decode("utf-8", "replace")
    if pct == "application/json":
        return "tensor", json.loads(data)
    return "image", data


def server_timing(timings: dict) -> str | None:
    """The Server-Timing header value (None when BNK_SERVER_TIMING=0)."""
    if not SERVER_TIMING:
        return None
    out = []
    for phase in PHASES:
        names = PHASE_NAMES[phase]
        if len(names) == 2:  # preprocess split into decode + resize
            vals = (timings.get("decode", 0.0), timings.get("resize", 0.0))
        else:
            vals = (timings.get(phase, 0.0),)
        out += [f"{n};dur={v * 1000:.3f}" for n, v in zip(names, vals)]
    return ", ".join(out)


_LOG_FD: int | None = None
_LOG_PID = 0


def log_timings(timings: dict, status: int) -> None:
    """One JSON line per request (ms) to BNK_TIMING_LOG; O_APPEND, one write."""
    global _LOG_FD, _LOG_PID
    if not TIMING_LOG:
        return
    try:
        if _LOG_FD is None or _LOG_PID != os.getpid():  # per worker, after the fork
            _LOG_FD = os.open(TIMING_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            _LOG_PID = os.getpid()
        rec = {"t": round(time.time(), 4), "pid": _LOG_PID, "status": status}
        for k in ("queue", "decode", "resize", "preprocess", "model", "postprocess"):
            rec[k] = round(timings.get(k, 0.0) * 1000, 3)
        os.write(_LOG_FD, (json.dumps(rec) + "\n").encode())
    except OSError:
        pass


def health(flavour: dict) -> dict:
    return {"status": "ok", "pid": os.getpid(), "train_seconds": round(TRAIN_SECONDS, 3),
            "kept_bytes": KEPT_BYTES, "flavour": flavour,
            "server_timing": SERVER_TIMING,
            "phase_names": {p: "+".join(n) for p, n in PHASE_NAMES.items()},
            "knobs": {"threads": THREADS, "model_cost": MODEL_COST,
                      "model_batch": MODEL_BATCH, "preprocess_cost": PREPROCESS_COST,
                      "resize": RESIZE, "resize_filter": RESIZE_FILTER_NAME,
                      "decode_draft": DECODE_DRAFT, "gil_loop": GIL_LOOP,
                      "mem_per_pixel": MEM_PER_PIXEL, "max_input_bytes": MAX_INPUT}}
