"""Function evaluations per fit over the committed lavaan fixtures: a measure of the
optimiser and the start values that, unlike a timing, does not depend on the machine's load.

Usage (from anywhere)::

    python benchmarks/evaluations.py

For every ``tests/fixtures/lavaan/*.json`` it fits the fixture's model to its data with its
options (lavaan's names mapped to ``cs.fit``'s), counts the evaluations of the ML/FIML fit
function (each with or without derivatives counts one), and prints them with the largest
|estimate − lavaan's estimate| over the matched rows, so that a change that saves
evaluations can be seen not to move the optimum.  Stop 22: 1,157 evaluations in all before
the optimiser reused its rejected full step, 1,139 after, 1,045 after the residual-variance
start values (engine/start.py), 998 after the switch to BFGS at 1e-2 (engine/optimizer.py).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import cbec_sem as cs
from cbec_sem.engine import fiml, ml

ROOT = Path(__file__).resolve().parents[1]
OPTIONS = {"group": "group", "std.lv": "std_lv", "group.equal": "group_equal",
           "group.partial": "group_partial", "fixed.x": "fixed_x", "estimator": "estimator",
           "information": "information", "meanstructure": "meanstructure"}


def count_evaluations() -> list[int]:
    """Wraps the fit functions' ``evaluate`` so that every call adds one to the counter."""
    counter = [0]
    for cls in (ml.MLFunction, fiml.FIMLFunction):
        original = cls.evaluate

        def counted(self, *args, _original=original, **kwargs):
            counter[0] += 1
            return _original(self, *args, **kwargs)

        cls.evaluate = counted
    return counter


def main() -> None:
    counter = count_evaluations()
    total = 0
    print(f"{'fixture':40s} {'evaluations':>11s}  converged  max |est − lavaan|")
    for path in sorted((ROOT / "tests/fixtures/lavaan").glob("*.json")):
        fx = json.loads(path.read_text())
        kwargs = {OPTIONS[k]: v for k, v in fx["options"].items() if k in OPTIONS}
        if fx["options"].get("missing") == "ml":
            kwargs["missing"] = "fiml"
        data = pd.read_csv(ROOT / fx["data"])
        counter[0] = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = cs.fit(fx["model"], data, **kwargs)
        ours, theirs = res.params, pd.DataFrame(fx["params"])
        key = ["lhs", "op", "rhs"] + (["group"] if "group" in theirs else [])
        both = ours.merge(theirs, on=key, suffixes=("", "_lavaan"))
        diff = float(np.nanmax(np.abs(both["est"] - both["est_lavaan"])))
        total += counter[0]
        print(f"{path.name:40s} {counter[0]:11d}  {res.converged.optimizer_converged!s:9s}  "
              f"{diff:.1e}")
    print(f"{'total':40s} {total:11d}")


if __name__ == "__main__":
    main()
