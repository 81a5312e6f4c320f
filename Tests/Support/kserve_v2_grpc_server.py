"""A stand-in KServe v2 gRPC server (inference.GRPCInferenceService, grpcio) for the tests,
strict the way Triton is: ModelMetadata answers the model's inputs, ModelInfer checks every
input (name, datatype, shape against the metadata, raw_input_contents length against shape and
datatype, inputs that must agree) and answers INVALID_ARGUMENT when one is wrong, an unknown
model NOT_FOUND. ModelStatistics counts successes and the time spent, as Triton reports it:
each inference sleeps 2 ms in compute_infer and 1 ms in compute_input. Models:
  resnet   input__0 FP32 [-1,3,8,8]
  bert     input_ids INT64 [-1,-1], attention_mask INT64 [-1,-1] (same shape), token_type_ids BOOL [-1,-1]
The port (127.0.0.1, chosen by the kernel) is printed on stdout, and `port N` on stderr; `valid N
invalid M` on stderr at exit (after the time, or SIGINT). Ends itself after the seconds given as the first argument (default 60). Runs with the
test bed's Python (testbed/.venv: grpcio, protobuf)."""
import os
import signal
import sys
import threading
import time
from concurrent import futures

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testbed", "service"))
import grpc  # noqa: E402
import kserve_v2_pb2 as pb  # noqa: E402
import kserve_v2_pb2_grpc as rpc  # noqa: E402

MODELS = {
    "resnet": [("input__0", "FP32", [-1, 3, 8, 8])],
    "bert": [("input_ids", "INT64", [-1, -1]), ("attention_mask", "INT64", [-1, -1]),
             ("token_type_ids", "BOOL", [-1, -1])],
}
SIZES = {"BOOL": 1, "INT8": 1, "UINT8": 1, "INT16": 2, "UINT16": 2, "FP16": 2, "BF16": 2,
         "INT32": 4, "UINT32": 4, "FP32": 4, "INT64": 8, "UINT64": 8, "FP64": 8}
COUNTS = {"valid": 0, "invalid": 0}
STATS = {"count": 0, "queue": 0, "input": 0, "infer": 0, "output": 0, "success_ns": 0}
LOCK = threading.Lock()


def check(model, request):
    """The error a strict server answers, or None."""
    by_name = {t.name: (i, t) for i, t in enumerate(request.inputs)}
    if len(request.raw_input_contents) != len(request.inputs):
        return f"{len(request.raw_input_contents)} raw_input_contents for {len(request.inputs)} inputs"
    shapes = []
    for name, datatype, shape in MODELS[model]:
        if name not in by_name:
            return f"expected input '{name}' for model '{model}'"
        index, tensor = by_name[name]
        if tensor.datatype != datatype:
            return f"input '{name}' datatype {tensor.datatype}, expected {datatype}"
        got = list(tensor.shape)
        if len(got) != len(shape) or any(s != -1 and s != g for s, g in zip(shape, got)) or any(g < 1 for g in got):
            return f"input '{name}' shape {got} does not match {shape}"
        count = 1
        for g in got:
            count *= g
        if len(request.raw_input_contents[index]) != count * SIZES[datatype]:
            return f"input '{name}' has {len(request.raw_input_contents[index])} bytes, expected {count * SIZES[datatype]}"
        shapes.append(got)
    if model == "bert" and len({tuple(s) for s in shapes}) != 1:
        return f"bert inputs must agree in shape, got {shapes}"
    return None


class Servicer(rpc.GRPCInferenceServiceServicer):
    def ModelMetadata(self, request, context):
        if request.name not in MODELS:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Request for unknown model: '{request.name}' is not found")
        inputs = [pb.ModelMetadataResponse.TensorMetadata(name=n, datatype=d, shape=s) for n, d, s in MODELS[request.name]]
        return pb.ModelMetadataResponse(name=request.name, versions=["1"], platform="python_stand_in", inputs=inputs)

    def ModelInfer(self, request, context):
        start = time.perf_counter_ns()
        if request.model_name not in MODELS:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Request for unknown model: '{request.model_name}' is not found")
        error = check(request.model_name, request)
        if error:
            with LOCK:
                COUNTS["invalid"] += 1
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, error)
        t_input = time.perf_counter_ns()
        time.sleep(0.001)
        t_infer = time.perf_counter_ns()
        time.sleep(0.002)
        t_output = time.perf_counter_ns()
        reply = pb.ModelInferResponse(model_name=request.model_name, model_version="1", id=request.id,
                                      outputs=[pb.ModelInferResponse.InferOutputTensor(name="out", datatype="FP32", shape=[1, 2])],
                                      raw_output_contents=[b"\0" * 8])
        end = time.perf_counter_ns()
        with LOCK:
            COUNTS["valid"] += 1
            STATS["count"] += 1
            STATS["queue"] += t_input - start
            STATS["input"] += t_infer - t_input
            STATS["infer"] += t_output - t_infer
            STATS["output"] += end - t_output
            STATS["success_ns"] += end - start
        return reply

    def ModelStatistics(self, request, context):
        with LOCK:
            s = dict(STATS)
        d = lambda ns: pb.StatisticDuration(count=s["count"], ns=ns)  # noqa: E731
        stats = pb.InferStatistics(success=d(s["success_ns"]), queue=d(s["queue"]), compute_input=d(s["input"]),
                                   compute_infer=d(s["infer"]), compute_output=d(s["output"]))
        return pb.ModelStatisticsResponse(model_stats=[pb.ModelStatistics(
            name=request.name or "resnet", version="1", inference_count=s["count"], execution_count=s["count"],
            inference_stats=stats)])


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    rpc.add_GRPCInferenceServiceServicer_to_server(Servicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    print(f"port {port}", file=sys.stderr, flush=True)
    done = threading.Event()
    # A child inherits its parent's blocked signals (a test runner's thread may block SIGINT).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    end = time.monotonic() + seconds
    while not done.is_set() and time.monotonic() < end:
        time.sleep(0.1)  # short sleeps: grpc's threads may take the signal, and the flag is read here
    server.stop(0)
    print(f"valid {COUNTS['valid']} invalid {COUNTS['invalid']}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
