"""A stand-in KServe v2 (Open Inference Protocol) REST server for the tests, strict the way
Triton is: GET /v2/models/NAME answers the model's metadata, POST /v2/models/NAME/infer checks
every input (name, datatype, shape against the metadata, data length against the shape, inputs
that must agree) and answers 400 {"error": ...} when one is wrong. GET /stats counts valid and
invalid requests and the shapes seen. Models:
  resnet   input__0 FP32 [-1,3,8,8]
  bert     input_ids INT64 [-1,-1], attention_mask INT64 [-1,-1] (same shape), token_type_ids BOOL [-1,-1]
  seq32    tokens INT32 [-1,-1], but only takes a sequence of 32 (a model whose metadata is loose)
HTTP/1.1 keep-alive on 127.0.0.1, a port the kernel picks, printed on stdout; ends itself after
the seconds given as the first argument (default 60)."""
import http.server
import json
import signal
import sys
import threading

MODELS = {
    "resnet": [("input__0", "FP32", [-1, 3, 8, 8])],
    "bert": [("input_ids", "INT64", [-1, -1]), ("attention_mask", "INT64", [-1, -1]),
             ("token_type_ids", "BOOL", [-1, -1])],
    "seq32": [("tokens", "INT32", [-1, -1])],
}
STATS = {"valid": 0, "invalid": 0, "shapes": [], "errors": []}
LOCK = threading.Lock()


def check(model, request):
    """The error a strict server answers, or None."""
    inputs = request.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        return "request has no inputs"
    by_name = {i.get("name"): i for i in inputs}
    shapes = []
    for name, datatype, shape in MODELS[model]:
        got = by_name.get(name)
        if got is None:
            return f"expected input '{name}' for model '{model}'"
        if got.get("datatype") != datatype:
            return f"input '{name}' datatype {got.get('datatype')}, expected {datatype}"
        s = got.get("shape")
        if not isinstance(s, list) or len(s) != len(shape) or any(
                (want != -1 and dim != want) or not isinstance(dim, int) or dim < 1 for dim, want in zip(s, shape)):
            return f"unexpected shape for input '{name}' for model '{model}': {s}, expected {shape}"
        n = 1
        for dim in s:
            n *= dim
        data = got.get("data")
        if not isinstance(data, list) or len(data) != n:
            return f"input '{name}' has {len(data) if isinstance(data, list) else 'no'} values, shape {s} needs {n}"
        kind = {"FP32": float, "INT64": int, "INT32": int, "BOOL": bool}[datatype]
        if not all(isinstance(v, kind) and (kind is bool or not isinstance(v, bool)) for v in data):
            return f"input '{name}' holds values that are not {datatype}"
        shapes.append(s)
    if model == "bert" and len({tuple(s) for s in shapes}) != 1:
        return "input_ids, attention_mask and token_type_ids must have the same shape"
    if model == "seq32" and shapes[0][1] != 32:
        return f"sequence length {shapes[0][1]} is not supported; this model takes 32"
    with LOCK:
        STATS["shapes"].append(shapes[0])
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if self.path == "/stats":
            with LOCK:
                return self.answer(200, STATS)
        if len(parts) == 3 and parts[:2] == ["v2", "models"] and parts[2] in MODELS:
            return self.answer(200, {"name": parts[2], "versions": ["1"], "platform": "python_stand_in",
                                     "inputs": [{"name": n, "datatype": d, "shape": s} for n, d, s in MODELS[parts[2]]],
                                     "outputs": [{"name": "scores", "datatype": "FP32", "shape": [-1, 10]}]})
        return self.answer(404, {"error": f"Request for unknown model: '{parts[-1]}' is not found"})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        parts = self.path.strip("/").split("/")
        if not (len(parts) == 4 and parts[:2] == ["v2", "models"] and parts[3] == "infer" and parts[2] in MODELS):
            return self.answer(404, {"error": f"Request for unknown model: '{parts[2] if len(parts) > 2 else ''}' is not found"})
        try:
            error = check(parts[2], json.loads(body))
        except ValueError as e:
            error = f"failed to parse the request JSON: {e}"
        with LOCK:
            STATS["invalid" if error else "valid"] += 1
            if error:
                STATS["errors"].append(error)
        if error:
            return self.answer(400, {"error": error})
        return self.answer(200, {"model_name": parts[2], "outputs": [{"name": "scores", "datatype": "FP32", "shape": [1, 10],
                                                                        "data": [0.1] * 10}]})

    def log_message(self, *args):
        pass


signal.alarm(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
