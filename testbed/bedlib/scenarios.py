"""Test bed scenarios: the YAML files under testbed/scenarios."""
from __future__ import annotations

import glob
import os

import yaml

from common import BedError, SCENARIOS


def scenario_path(name: str) -> str:
    if os.path.isfile(name):
        return name
    p = os.path.join(SCENARIOS, name + ".yaml")
    if not os.path.isfile(p):
        raise BedError(f"no scenario {name!r}; `bed list` shows them")
    return p


def load_scenario(name: str) -> dict:
    with open(scenario_path(name)) as f:
        sc = yaml.safe_load(f)
    for key in ("name", "faults", "expect"):
        if key not in sc:
            raise BedError(f"scenario {name}: missing key {key!r}")
    for key in ("service", "proxy", "network", "load_generator", "load"):
        sc.setdefault(key, {})
        if sc[key] is None:
            sc[key] = {}
    api = sc["service"].get("api", "predict")
    if api not in API_PATHS:
        raise BedError(f"scenario {name}: service.api {api!r}; use one of {', '.join(API_PATHS)}")
    if (sc["service"].get("server") == "grpc") != (api == "kserve-v2-grpc"):
        raise BedError(f"scenario {name}: service.api kserve-v2-grpc goes with service.server grpc, and only with it")
    if api != "predict" and sc["service"].get("worker_class", "uvicorn") != "uvicorn":
        raise BedError(f"scenario {name}: service.api {api} is served by the FastAPI flavour; drop worker_class")
    return sc


# The path each API of the service answers predictions on: the bed's own /predict, the KServe v2
# (Open Inference Protocol) inference URL of its one model, or over gRPC the model itself
# (grpc://…/v2/models/toy-mlp: the tool calls ModelInfer for it).
API_PATHS = {"predict": "/predict", "kserve-v2": "/v2/models/toy-mlp/infer", "kserve-v2-grpc": "/v2/models/toy-mlp"}


def service_path(sc: dict) -> str:
    return API_PATHS[sc["service"].get("api", "predict")]


def all_scenarios() -> list[dict]:
    out = []
    for p in sorted(glob.glob(os.path.join(SCENARIOS, "*.yaml"))):
        with open(p) as f:
            out.append(yaml.safe_load(f))
    return out
