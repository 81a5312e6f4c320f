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
    return sc


def all_scenarios() -> list[dict]:
    out = []
    for p in sorted(glob.glob(os.path.join(SCENARIOS, "*.yaml"))):
        with open(p) as f:
            out.append(yaml.safe_load(f))
    return out
