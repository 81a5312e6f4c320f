#!/usr/bin/env python3
"""Fails when a source file imports a library target that is not below its own in the layer
order of docs/architecture.md, or when Package.swift declares such a dependency.

The compiler refuses an import of a target that is not a declared dependency only once the
module is absent from the build; run in one build tree, an undeclared import of a module
that happens to be built first compiles. This check does not depend on build order."""
import pathlib, re, sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Each library target and the project targets it may import (its dependencies, transitively).
LAYERS = {
    "BottleneckCore": set(),
    "BottleneckLoad": {"BottleneckCore"},
    "BottleneckSampling": {"BottleneckCore"},
    "BottleneckCapture": {"BottleneckCore"},
    "BottleneckRun": {"BottleneckCore", "BottleneckLoad", "BottleneckSampling", "BottleneckCapture"},
    "BottleneckDiagnosis": {"BottleneckCore", "BottleneckLoad", "BottleneckSampling", "BottleneckCapture",
                            "BottleneckRun"},
    "BottleneckReport": {"BottleneckCore", "BottleneckLoad", "BottleneckSampling", "BottleneckCapture",
                         "BottleneckRun", "BottleneckDiagnosis"},
}
PROJECT = set(LAYERS)
# Targets above every layer that may import any library target; no library target imports them.
# BottleneckFuzz: the libFuzzer driver in fuzz/Sources, declared only for `make fuzz`.
TOP = {"BottleneckFuzz"}
IMPORT = re.compile(r"^[ \t]*(?:@testable[ \t]+|@_exported[ \t]+)?import[ \t]+"
                    r"(?:(?:struct|class|enum|protocol|typealias|func|var|let)[ \t]+)?(\w+)", re.M)


def main() -> int:
    problems = []
    for target, allowed in LAYERS.items():
        folder = ROOT / "Sources" / target
        if not folder.is_dir():
            problems.append(f"Sources/{target}: missing; update scripts/check-architecture.py and docs/architecture.md")
            continue
        for path in sorted(folder.rglob("*.swift")):
            for module in IMPORT.findall(path.read_text()):
                if module in TOP:
                    problems.append(f"{path.relative_to(ROOT)}: imports {module}, which no library target may import")
                if module in PROJECT and module != target and module not in allowed:
                    problems.append(f"{path.relative_to(ROOT)}: imports {module}, which is not below {target}; "
                                    f"move the code up into {module}, or what both need down into a lower target")
    package = (ROOT / "Package.swift").read_text()
    for match in re.finditer(r'\.target\(\s*name:\s*"(\w+)",\s*dependencies:\s*\[(.*?)\]', package, re.S):
        target, deps = match.group(1), set(re.findall(r'"(Bottleneck\w*)"', match.group(2)))
        if target in LAYERS:
            for dep in sorted(deps - LAYERS[target]):
                problems.append(f"Package.swift: {target} depends on {dep}, which is not below it")
    undeclared = set(re.findall(r'name:\s*"(Bottleneck\w+)"', package)) - PROJECT - TOP
    for target in sorted(undeclared):
        if (ROOT / "Sources" / target).is_dir():
            problems.append(f"Package.swift: library target {target} has no layer; add it to scripts/check-architecture.py")
    for line in problems:
        print(line, file=sys.stderr)
    if not problems:
        print(f"architecture: {len(LAYERS)} library targets, every import points down the layers")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
