"""bottleneck test-bed prediction service, gRPC flavour: the KServe v2 inference protocol
(inference.GRPCInferenceService: ModelMetadata, ModelInfer, ModelStatistics) over grpcio, as
Triton serves it on its gRPC port. The model is the bed's toy-mlp; its input is the feature
vector, FP32 [-1, N_FEATURES] in raw_input_contents (or fp32_contents).

Per inference, the same work as the HTTP flavours (compute.py): preprocessing (tensor
normalisation) is Triton's compute_input, the model its compute_infer, postprocessing its
compute_output, and the wait for one of the BNK_THREADS compute slots of a process its queue.
No Server-Timing (gRPC has none): ModelStatistics reports those phases, summed over every
worker process through shared counters, as Triton reports them.

  grpc_server.py --host H --port P --workers N
Workers are processes forked before their servers start, each serving the port with
SO_REUSEPORT. The parent answers GET /health (HTTP) on port P+1 once every worker serves.
"""
from __future__ import annotations

import argparse
import http.server
import json
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from concurrent import futures

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compute  # noqa: E402  (trains the model at import, before the fork: workers share it)
from compute import InputError  # noqa: E402

MODEL = "toy-mlp"
FLAVOUR = {"framework": "grpcio", "worker_class": "grpc"}
# Shared by every worker: inferences and nanoseconds in queue, compute_input, compute_infer, compute_output.
COUNTERS = multiprocessing.RawArray("Q", 5)
COUNTERS_LOCK = multiprocessing.Lock()


def _servicer():
    import grpc
    import kserve_v2_pb2 as pb
    import kserve_v2_pb2_grpc as rpc

    slots = threading.Semaphore(compute.THREADS)

    class Servicer(rpc.GRPCInferenceServiceServicer):
        def ModelMetadata(self, request, context):
            if request.name != MODEL:
                context.abort(grpc.StatusCode.NOT_FOUND, f"Request for unknown model: '{request.name}' is not found")
            tensor = pb.ModelMetadataResponse.TensorMetadata
            return pb.ModelMetadataResponse(
                name=MODEL, versions=["1"], platform="sklearn_grpcio",
                inputs=[tensor(name="features", datatype="FP32", shape=[-1, compute.N_FEATURES])],
                outputs=[tensor(name="probabilities", datatype="FP32", shape=[-1, compute.N_CLASSES])])

        def ModelInfer(self, request, context):
            arrived = time.perf_counter_ns()
            if request.model_name != MODEL:
                context.abort(grpc.StatusCode.NOT_FOUND, f"Request for unknown model: '{request.model_name}' is not found")
            if len(request.inputs) != 1 or request.inputs[0].name != "features" or request.inputs[0].datatype != "FP32":
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "expected one input 'features' of datatype FP32")
            with slots:
                started = time.perf_counter_ns()
                try:
                    if request.raw_input_contents:
                        values = np.frombuffer(request.raw_input_contents[0], dtype="<f4")
                    else:
                        values = np.asarray(request.inputs[0].contents.fp32_contents, dtype=np.float32)
                    feat, info = compute.preprocess_tensor(values, {})
                except InputError as e:
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
                prepared = time.perf_counter_ns()
                probs = compute.run_model(feat)
                inferred = time.perf_counter_ns()
                compute.postprocess(probs, info)
                raw = np.asarray(probs, dtype="<f4").tobytes()
                done = time.perf_counter_ns()
            with COUNTERS_LOCK:
                COUNTERS[0] += 1
                COUNTERS[1] += started - arrived
                COUNTERS[2] += prepared - started
                COUNTERS[3] += inferred - prepared
                COUNTERS[4] += done - inferred
            out = pb.ModelInferResponse.InferOutputTensor(name="probabilities", datatype="FP32", shape=[1, len(probs)])
            return pb.ModelInferResponse(model_name=MODEL, model_version="1", id=request.id, outputs=[out],
                                         raw_output_contents=[raw])

        def ModelStatistics(self, request, context):
            if request.name and request.name != MODEL:
                context.abort(grpc.StatusCode.NOT_FOUND, f"Request for unknown model: '{request.name}' is not found")
            with COUNTERS_LOCK:
                n, queue, prepare, infer, output = (int(v) for v in COUNTERS)
            d = lambda ns: pb.StatisticDuration(count=n, ns=ns)  # noqa: E731
            stats = pb.InferStatistics(success=d(queue + prepare + infer + output), queue=d(queue),
                                       compute_input=d(prepare), compute_infer=d(infer), compute_output=d(output))
            return pb.ModelStatisticsResponse(model_stats=[pb.ModelStatistics(
                name=MODEL, version="1", inference_count=n, execution_count=n, inference_stats=stats)])

    return grpc, rpc, Servicer


def worker(host: str, port: int) -> None:
    grpc, rpc, Servicer = _servicer()
    # Enough handler threads to queue on the compute slots (as Triton queues on instances).
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=compute.THREADS * 8),
                         options=[("grpc.so_reuseport", 1)])
    rpc.add_GRPCInferenceServiceServicer_to_server(Servicer(), server)
    server.add_insecure_port(f"{host}:{port}")
    server.start()
    signal.signal(signal.SIGTERM, lambda *_: server.stop(1))
    server.wait_for_termination()


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1" if host == "0.0.0.0" else host, port), timeout=0.5):
            return True
    except OSError:
        return False


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description="the test bed's KServe v2 gRPC service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8001)
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args(argv)
    children = []
    for _ in range(max(1, a.workers)):
        pid = os.fork()
        if pid == 0:
            worker(a.host, a.port)
            os._exit(0)
        children.append(pid)

    def stop(*_):
        for child in children:
            try:
                os.kill(child, signal.SIGTERM)
            except ProcessLookupError:
                pass
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not port_open(a.host, a.port):
        time.sleep(0.1)

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = json.dumps(compute.health(FLAVOUR) | {"workers": len(children)}).encode()
            self.send_response(200 if self.path == "/health" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    health = http.server.ThreadingHTTPServer((a.host, a.port + 1), Health)
    threading.Thread(target=health.serve_forever, daemon=True).start()
    while True:
        pid, _ = os.wait()
        if pid in children:  # a worker died: the service is down, as gunicorn's master would say
            stop()


if __name__ == "__main__":
    main()
