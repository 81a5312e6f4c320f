"""Test bed basics: paths, the state file, logging, running commands, errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys


TESTBED = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


SCENARIOS = os.path.join(TESTBED, "scenarios")


STATE_DIR = os.environ.get("BNK_STATE_DIR", "/run/bottleneck-testbed")


STATE_FILE = os.path.join(STATE_DIR, "state.json")


PREFIX = "bnk"


NFT_TABLE = "bnk_testbed"


VENV_PY = os.path.join(TESTBED, ".venv", "bin", "python")


SVC_PORT, PRX_PORT = 8000, 8080


def free_port() -> int:
    """A currently free loopback port (flat mode), or BNK_FLAT_*_PORT."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


FLAT_PORTS: dict = {}


def flat_port(which: str) -> int:
    if which not in FLAT_PORTS:
        env = os.environ.get(f"BNK_FLAT_{which.upper()}_PORT")
        FLAT_PORTS[which] = int(env) if env else free_port()
    return FLAT_PORTS[which]


class BedError(Exception):
    """A failure that must stop the bed loudly (exit 4)."""


class Interrupted(BaseException):
    pass


def log(msg: str) -> None:
    print(f"bed: {msg}", file=sys.stderr, flush=True)


def sh(cmd: list[str], ns: str | None = None, check: bool = True, timeout: float = 30,
       capture: bool = True) -> subprocess.CompletedProcess:
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    p = subprocess.run(cmd, capture_output=capture, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise BedError(f"command failed ({p.returncode}): {' '.join(cmd)}\n{(p.stderr or '').strip()}")
    return p


class State:
    def __init__(self, data: dict | None = None):
        self.data = data or {"version": 1, "resources": [], "status": "starting"}

    @classmethod
    def load(cls) -> "State | None":
        try:
            with open(STATE_FILE) as f:
                return cls(json.load(f))
        except FileNotFoundError:
            return None

    def save(self) -> None:
        os.makedirs(STATE_DIR, exist_ok=True)
        tmp = STATE_FILE + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.data, f, indent=1)
        os.replace(tmp, STATE_FILE)

    def add(self, kind: str, **rec) -> dict:
        rec["kind"] = kind
        self.data["resources"].append(rec)
        self.save()
        return rec
