"""The necessity claims of a power study, one by one: old code against new, same process.

    python benchmarks/bench_matched_claims.py record /tmp/claims.pkl --reps 200 --seed 2
    python benchmarks/bench_matched_claims.py compare /tmp/claims.pkl /tmp/old/src --rounds 8

``record`` runs ``cs.power(cs.paper_model(), n=[N], reps=R, n_jobs=1, seed=S)`` and keeps, for
every claim that reaches the correlation-matched test (``necessity_null.matched_decision``),
its :class:`ConditionFit`, the number of draws, α and the generator's state before the test;
for the claims whose matched test rejects, also the permutation test's (its own stream).

``compare`` loads ``propositions/necessity_null.py`` and ``propositions/necessity.py`` of an
older source tree (``OLD``: the directory holding ``cbec_sem/``) as extra modules of the
package under test (so both share everything else), then

1. **identity**: for every recorded claim, ``matched_decision`` (stopped and, with
   ``--full``, ``stop=False``), ``correlation_matched_null`` (all draws, the raw bytes of r, ρ,
   γ and every null d) and ``permutation_decision`` of both versions from the same generator
   state, compared exactly;
2. **time**: ``--rounds`` rounds, old and new alternating, of every claim's matched (and
   permutation) decision; the CPU seconds (``time.process_time``) of each, their medians and
   per-round ratios new/old.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import pickle
import statistics
import sys
import time

import numpy as np


def record(path: str, reps: int, seed: int, n: int) -> None:
    import cbec_sem as cs
    from cbec_sem.power import study

    claims, perms = [], []
    real_m, real_p = study.matched_decision, study.permutation_decision

    def recording(real, into: list):
        """``real`` (a decision called as study.py calls it: fit, ceiling, draws, rng, alpha
        positionally), recording its inputs, generator state and output in ``into``."""
        def decision(fit, ceiling, draws, rng, alpha, **kw):
            state = copy.deepcopy(rng.bit_generator.state)
            out = real(fit, ceiling, draws, rng, alpha, **kw)
            into.append({"fit": fit, "ceiling": ceiling, "draws": draws, "alpha": alpha,
                         "state": state, "kw": kw, "out": out})
            return out
        return decision

    study.matched_decision = recording(real_m, claims)
    study.permutation_decision = recording(real_p, perms)
    try:
        cs.power(cs.paper_model(), n=[n], reps=reps, n_jobs=1, seed=seed)
    finally:
        study.matched_decision, study.permutation_decision = real_m, real_p
    with open(path, "wb") as fh:
        pickle.dump({"matched": claims, "permutation": perms}, fh)
    print(f"{len(claims)} matched claims, {len(perms)} permutation tests -> {path}")


def _load_old(old_src: str):
    import cbec_sem.propositions as pkg

    mods = {}
    for name in ("necessity", "necessity_null"):
        full = f"cbec_sem.propositions._old_{name}"
        spec = importlib.util.spec_from_file_location(
            full, f"{old_src}/cbec_sem/propositions/{name}.py",
            submodule_search_locations=None)
        mod = importlib.util.module_from_spec(spec)
        mod.__package__ = pkg.__name__
        sys.modules[full] = mod
        spec.loader.exec_module(mod)
        mods[name] = mod
    return mods


def _rng(state):
    g = np.random.Generator(np.random.PCG64())
    g.bit_generator.state = copy.deepcopy(state)
    return g


def _bytes(obj):
    if isinstance(obj, dict):
        return {k: _bytes(v) for k, v in obj.items()}
    if isinstance(obj, (tuple, list)):
        return [_bytes(v) for v in obj]
    return np.asarray(obj).tobytes()


def _rng_seed(k):
    return np.random.default_rng(1000 + k)


def _tied_sets():
    """Data sets for the identity check beyond the power study's (untied) claims: Likert-like
    means (ties in both), a tied condition or outcome only, a ceiling, N = 40 to 400."""
    rng = np.random.default_rng(77)
    out = []
    for n in (40, 150, 400):
        for rho in (0.2, 0.5):
            x = rng.standard_normal(n)
            y = rho * x + np.sqrt(1 - rho * rho) * rng.standard_normal(n)
            out.append((np.round(x * 2) / 2, np.round(y * 2) / 2))       # both tied
            out.append((np.round(x * 3) / 3, y))                           # condition tied
            out.append((x, np.round(y * 4) / 4))                           # outcome tied
            u = rng.uniform(size=n)
            out.append((u, u * rng.uniform(size=n)))                       # a ceiling
    return out


def compare(path: str, old_src: str, rounds: int, full: bool, null_every: int) -> None:
    from cbec_sem.propositions import necessity as new_nec
    from cbec_sem.propositions import necessity_null as new_null

    old = _load_old(old_src)
    old_nec, old_null = old["necessity"], old["necessity_null"]
    with open(path, "rb") as fh:
        data = pickle.load(fh)
    claims, perms = data["matched"], data["permutation"]

    bad = 0
    for i, c in enumerate(claims):
        args = (c["fit"], c["ceiling"], c["draws"])
        a = old_null.matched_decision(*args, _rng(c["state"]), c["alpha"])
        b = new_null.matched_decision(*args, _rng(c["state"]), c["alpha"])
        same = _bytes(a) == _bytes(b) == _bytes(c["out"])
        if full:
            a = old_null.matched_decision(*args, _rng(c["state"]), c["alpha"], stop=False)
            b = new_null.matched_decision(*args, _rng(c["state"]), c["alpha"], stop=False)
            same &= _bytes(a) == _bytes(b)
        if null_every and i % null_every == 0:
            for kw in ({}, {"spread": False}, {"resample_r": False}):
                a = old_null.correlation_matched_null(c["fit"], ("ce_fdh",), c["draws"],
                                                      _rng(c["state"]), **kw)
                b = new_null.correlation_matched_null(c["fit"], ("ce_fdh",), c["draws"],
                                                      _rng(c["state"]), **kw)
                same &= _bytes(a) == _bytes(b)
        bad += not same
    for c in perms:
        args = (c["fit"], c["ceiling"], c["draws"])
        a = old_nec.permutation_decision(*args, _rng(c["state"]), c["alpha"])
        b = new_nec.permutation_decision(*args, _rng(c["state"]), c["alpha"])
        bad += not (_bytes(a) == _bytes(b) == _bytes(c["out"]))
    print(f"identity: {len(claims)} matched claims, {len(perms)} permutation tests: "
          + ("identical" if not bad else f"{bad} DIFFERENT"))
    bad = 0
    sets = _tied_sets()
    for k, (x, y) in enumerate(sets):
        fit = new_nec.condition_fit(x, y, ("ce_fdh", "cr_fdh"))
        for ceilings in (("ce_fdh",), ("ce_fdh", "cr_fdh")):
            for kw in ({}, {"spread": False}, {"resample_r": False}):
                a = old_null.correlation_matched_null(fit, ceilings, 300, _rng_seed(k), **kw)
                b = new_null.correlation_matched_null(fit, ceilings, 300, _rng_seed(k), **kw)
                bad += _bytes(a) != _bytes(b)
        a = old_null.matched_decision(fit, "ce_fdh", 200, _rng_seed(k), 0.05, stop=False)
        b = new_null.matched_decision(fit, "ce_fdh", 200, _rng_seed(k), 0.05, stop=False)
        bad += _bytes(a) != _bytes(b)
    print(f"identity: {len(sets)} data sets with and without ties (CE/CR-FDH, spread on/off, "
          f"fixed rho): " + ("identical" if not bad else f"{bad} DIFFERENT"))
    if not rounds:
        return

    states = [(c, _rng(c["state"]).bit_generator.state) for c in claims]

    def run(null_mod, nec_mod) -> float:
        t = time.process_time()
        for c, st in states:
            g = np.random.Generator(np.random.PCG64())
            g.bit_generator.state = st
            null_mod.matched_decision(c["fit"], c["ceiling"], c["draws"], g, c["alpha"])
        for c in perms:
            nec_mod.permutation_decision(c["fit"], c["ceiling"], c["draws"],
                                         _rng(c["state"]), c["alpha"])
        return time.process_time() - t

    run(old_null, old_nec), run(new_null, new_nec)  # warm-up (caches per N)
    t_old, t_new = [], []
    for _ in range(rounds):
        t_old.append(run(old_null, old_nec))
        t_new.append(run(new_null, new_nec))
    k = len(claims)
    ratios = [b / a for a, b in zip(t_old, t_new)]
    print(f"per claim (ms): old {', '.join(f'{1e3 * t / k:.2f}' for t in t_old)}")
    print(f"                new {', '.join(f'{1e3 * t / k:.2f}' for t in t_new)}")
    print(f"median ms per claim: old {1e3 * statistics.median(t_old) / k:.3f}, new "
          f"{1e3 * statistics.median(t_new) / k:.3f}; new/old per round "
          f"{', '.join(f'{r:.2f}' for r in ratios)} (median {statistics.median(ratios):.3f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("path")
    r.add_argument("--reps", type=int, default=200)
    r.add_argument("--seed", type=int, default=2)
    r.add_argument("--n", type=int, default=300)
    c = sub.add_parser("compare")
    c.add_argument("path")
    c.add_argument("old_src")
    c.add_argument("--rounds", type=int, default=8)
    c.add_argument("--full", action="store_true", help="also compare stop=False runs")
    c.add_argument("--null-every", type=int, default=10,
                   help="compare correlation_matched_null on every k-th claim (0: none)")
    args = ap.parse_args()
    if args.cmd == "record":
        record(args.path, args.reps, args.seed, args.n)
    else:
        compare(args.path, args.old_src, args.rounds, args.full, args.null_every)


if __name__ == "__main__":
    main()
