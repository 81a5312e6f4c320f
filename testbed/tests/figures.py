"""Render a suite JSON (tests/run --json F) as the Markdown table of README.md."""
import json
import sys

SKIP = {"asserts", "leftovers", "target", "exit"}


def main(path):
    data = json.load(open(path))
    rows = [r for r in data["rows"] if r["check"].startswith(("ground-truth", "fails-loudly"))]
    print("| scenario | culprit | check | figures |")
    print("|---|---|---|---|")
    import os
    import yaml
    tb = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for r in rows:
        try:
            sc = yaml.safe_load(open(os.path.join(tb, "scenarios", r["scenario"] + ".yaml")))
            culprit = sc["expect"]["culprit"]
        except OSError:
            continue  # an extra test, not a scenario
        figs = ", ".join(f"{k}={v}" for k, v in r["figures"].items() if k not in SKIP)
        if r["check"].startswith("fails-loudly"):
            figs = "no netem on this kernel: `bed up` exits 4 naming netem, nothing left behind"
        print(f"| {r['scenario']} | {culprit} | {'PASS' if r['ok'] else 'FAIL'} | {figs} |")
    print(f"\nWhole suite ({len(data['rows'])} assertions incl. teardown and extra tests): "
          f"{data['seconds']:.0f} s.")


if __name__ == "__main__":
    main(sys.argv[1])
