"""Server-Timing phase names of the test-bed service (no heavy imports: serve.py
validates --phase-names with it before it execs the server)."""
from __future__ import annotations

import re

PHASES = ("queue", "preprocess", "model", "postprocess")
NAME_RE = re.compile(r"[A-Za-z0-9_.-]+")


def parse_phase_names(spec: str | None) -> dict[str, list[str]]:
    """`queue=wait,preprocess=decode+resize,model=inference` -> {phase: [metric names]}.
    Unnamed phases keep their own name; preprocess may map to one or two names."""
    names = {p: [p] for p in PHASES}
    for item in (spec or "").split(","):
        item = item.strip()
        if not item:
            continue
        phase, _, value = item.partition("=")
        phase = phase.strip()
        parts = [v.strip() for v in value.split("+") if v.strip()]
        if phase not in names or not parts or not all(NAME_RE.fullmatch(v) for v in parts):
            raise ValueError(f"BNK_PHASE_NAMES: bad entry {item!r} (PHASE=NAME, PHASE one of {PHASES})")
        if len(parts) > 1 and (phase != "preprocess" or len(parts) != 2):
            raise ValueError(f"BNK_PHASE_NAMES: only preprocess splits, into two names: {item!r}")
        names[phase] = parts
    return names


