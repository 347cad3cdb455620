"""Feasibility study (issue 13, item 3): can the bundled example get a true ceiling for H7 that
its own analysis finds in >= 90% of samples, while H8 stays "not necessary" in >= 90%?

The example's population (``cs.datasets.example_population()``) is changed in one place only:
after FA is drawn, it is capped by a ceiling line in TA and restandardised,

    FA* = (min(FA, a + b·TA) − m) / s      (m, s: mean and SD of the capped FA, from 10⁶ draws)

so FA*'s items, the TA:FA product and SCI (= .45·FA* + … ) are built from FA* exactly as the
example builds them from FA.  The slope b is ``--slope`` (default 1) and the intercept a is
set so that d_true — the ceiling zone above FA = a + b·TA inside the theoretical scope
[−3, 3]² (SD units) over the scope's area, computed exactly — equals each target in ``--d``
(d_true of the previous attempt, min(FA, 2 + 1.5·TA), is .280; ``--previous`` adds it as a
cell).  The normal latent variables have no ceiling of their own, so the example's d_true is 0
for both H7 and H8 (with the cap on FA, SCI = .45·FA* + … + a normal residual still has none);
sample d of unbounded normal data is not 0 (about .22 at N = 400, and a single sample of
200,000, printed for reference, is dominated by its few extreme cases).  Everything else
(paths, interactions, 7-point cutting with the default thresholds) is the example's;
"high" loadings halve every first-order loading's distance to 1 (.82 → .91, .65 → .825),
"vhigh" quarter it (.82 → .955).

Each replication draws one survey and runs, on it:

* ``default``   — exactly what ``res.hypotheses`` runs for H7 (TA → FA) and H8 (TA → SCI):
  ``cs.fit(cs.paper_model(), items)`` (ML) and
  ``cbec_sem.propositions.evidence.necessity_provider(res, 10000, seed, .05)``: NCA CE-FDH on
  the regression (Thurstone) scores, 10,000 permutations, 2,000 correlation-matched draws,
  "supported" when d ≥ .1, permutation p < .05 and matched p < .05;
* ``latent``    — the same verdict (``nca`` + ``necessity_verdict``, 10,000 / 2,000) on the
  true latent TA, FA*, SCI of the same sample;
* ``latent_nospread`` — on the true latent scores, the Gaussian-copula null (``spread=False``);
* ``reg_nospread``    — on the regression scores, ``spread=False``;
* ``means``           — on item means (``construct_scores(res, ..., "mean")``; SCI: all nine
  items), spread null;
  (these three with 999 permutations and 999 matched draws, the defaults of
  ``necessity_verdict_scores``, to keep the run short);
* ``pv20`` (only for the first ``--pv-reps`` replications of a cell) —
  ``necessity_verdict_scores(res, ..., plausible_values=20)``, the library's plausible-value
  option (999 / 999 per set, its defaults).

Printed: per cell (ceiling size, loadings, N) and method, the rate of "supported" for H7 and
H8 with its Monte Carlo SE √(p(1 − p)/reps), and the mean d.  ``--propagation`` prints only
the check whether the cap on FA gives SCI a ceiling in TA (:func:`propagation`, latent values);
``--kind truncate`` imposes the ceiling by truncation instead of capping (see
:class:`Generator`).

Run (single process, one BLAS thread)::

    python benchmarks/ceiling_feasibility.py --reps 100 --pv-reps 30 --previous
    python benchmarks/ceiling_feasibility.py --kind truncate --reps 60 --d 0.3,0.5 \\
        --loadings example,vhigh --n2 800 --n2-d 0.3 --n2-loadings vhigh
    python benchmarks/ceiling_feasibility.py --propagation
    python benchmarks/ceiling_feasibility.py --quick           # 4 reps, one cell: a smoke test

docs/ceiling_feasibility.md has the measured tables (about 30 + 5 minutes of one core).
"""

from __future__ import annotations

import argparse
import re
import time
import warnings

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri
from threadpoolctl import threadpool_limits

import cbec_sem as cs
from cbec_sem.datasets.make_example_survey import LIKERT, POPULATION
from cbec_sem.propositions.evidence import NECESSITY_D, matched_draws, necessity_provider
from cbec_sem.propositions.necessity import construct_scores, nca
from cbec_sem.propositions.necessity_null import (necessity_verdict, necessity_verdict_scores,
                                                  normal_scores_correlation, scale_slope)
from cbec_sem.simulate import _cut, default_thresholds, population_model

PERMUTATIONS = 10000  # res.hypotheses' default (cs.fit(nca_permutations=10000))
ALPHA = 0.05
LARGE_N = 200_000
FULL_MODEL = cs.paper_model().to_lavaan() + "\nSCI ~ TA:FA + PC:TA + PC:FA"


def population_text(loadings: str) -> str:
    """The example's population; ``"high"``: every first-order loading λ → 1 − (1 − λ)/2;
    ``"vhigh"``: λ → 1 − (1 − λ)/4."""
    if loadings == "example":
        return POPULATION
    k = {"high": 2, "vhigh": 4}[loadings]
    out = []
    for line in POPULATION.splitlines():
        if "=~" in line and not line.startswith("SCI") and not line.startswith("#"):
            line = re.sub(r"(\d\.\d+)\*", lambda m: f"{1 - (1 - float(m.group(1))) / k:.3f}*",
                          line)
        out.append(line)
    return "\n".join(out) + "\n"


class Generator:
    """The example's population with a ceiling FA ≤ a + b·TA (``a=None``: no ceiling).

    ``kind="cap"``: FA* = min(FA, a + b·TA) (the cases above the line are put on it);
    ``kind="truncate"``: FA's residual is drawn from its normal distribution truncated so that
    FA ≤ a + b·TA (inverse CDF of the same uniform: no case is put on the line, the conditional
    distribution below it keeps its normal shape up to the truncation)."""

    def __init__(self, loadings: str, a: float | None, b: float, seed: int = 7,
                 kind: str = "cap"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.pm = population_model(FULL_MODEL, population=population_text(loadings))
        order = list(self.pm.order)
        self.order = order
        self.ita, self.ifa, self.isci = order.index("TA"), order.index("FA"), order.index("SCI")
        self.a, self.b, self.kind = a, b, kind
        self.m, self.s = 0.0, 1.0
        self.cuts = default_thresholds(LIKERT)
        if a is not None:  # standardise the capped FA once, on a large sample
            ta, fa = self._ta_fa(1_000_000, np.random.default_rng(seed))
            self.m, self.s = float(fa.mean()), float(fa.std())

    def _ta_fa(self, n, rng):
        """TA and the (unstandardised) FA with its ceiling."""
        v = self.sample(n, rng, raw_fa=True)
        return v[:, self.ita], v[:, self.ifa]

    def _ceiling(self, x, zeta, ta):
        line = self.a + self.b * ta
        if self.kind == "cap":
            return np.minimum(x, line)
        sd = float(np.sqrt(self.pm.residual_covariance.to_numpy()[self.ifa, self.ifa]))
        pred = x - zeta
        u = ndtr(zeta / sd) * ndtr((line - pred) / sd)
        return pred + sd * ndtri(np.clip(u, 1e-300, 1.0))

    def sample(self, n: int, rng: np.random.Generator, raw_fa: bool = False) -> np.ndarray:
        """n × p values of every variable (pm.sample's loop, with FA's ceiling applied after
        it is drawn; ``raw_fa``: stop there, FA not restandardised)."""
        pm = self.pm
        psi = pm.residual_covariance.to_numpy()
        p = psi.shape[0]
        w, v = np.linalg.eigh(psi)
        zeta = rng.standard_normal((n, p)) @ (v * np.sqrt(np.clip(w, 0, None))).T
        values = np.empty((n, p))
        for j in range(p):
            x = zeta[:, j].copy()
            for k in np.flatnonzero(pm._coef[j]):
                x += pm._coef[j, k] * values[:, k]
            for r in np.flatnonzero(pm._gamma[j]):
                ia, ib = pm._products[r]
                x += pm._gamma[j, r] * (values[:, ia] * values[:, ib] - pm._product_mean[r])
            if j == self.ifa and self.a is not None:
                x = self._ceiling(x, zeta[:, j], values[:, self.ita])
                if not raw_fa:
                    x = (x - self.m) / self.s
            values[:, j] = x
            if raw_fa and j == self.ifa:
                return values
        return values

    def survey(self, n: int, rng: np.random.Generator):
        values = self.sample(n, rng)
        items = pd.DataFrame({o: _cut(values[:, self.order.index(o)], self.cuts)
                              for o in self.pm.observed})
        latent = pd.DataFrame({k: values[:, i] for k, i in
                               (("TA", self.ita), ("FA", self.ifa), ("SCI", self.isci))})
        return items, latent


def d_of(x, y) -> float:
    r = nca(None, pd.Series(np.asarray(x), name="x"), pd.Series(np.asarray(y), name="y"),
            ceilings=("ce_fdh",), permutations=0)
    return float(r.effects["d"].iloc[0])


def large_sample_d(gen: Generator, seed: int) -> tuple[float, float]:
    v = gen.sample(LARGE_N, np.random.default_rng(seed))
    return d_of(v[:, gen.ita], v[:, gen.ifa]), d_of(v[:, gen.ita], v[:, gen.isci])


SCOPE = 3.0  # the theoretical scope of d_true: [−3, 3] SD on both axes


def scope_d(a: float, b: float) -> float:
    """d_true of the ceiling FA = a + b·TA: the area above it within the theoretical scope
    [−3, 3]² (in SD units) over the scope's area (Dul 2016's d with a theoretical scope; the
    normal latent variables have no ceiling of their own, so without the cap d_true = 0)."""
    x = np.linspace(-SCOPE, SCOPE, 200_001)
    gap = np.clip(SCOPE - np.maximum(a + b * x, -SCOPE), 0.0, 2 * SCOPE)
    return float(np.mean(gap) * 2 * SCOPE / (2 * SCOPE) ** 2)


def intercept_for(d_target: float, b: float) -> float:
    """The intercept a of the ceiling FA = a + b·TA whose d_true is d_target (bisection; d
    falls as a grows)."""
    lo, hi = -10.0, 10.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if scope_d(mid, b) > d_target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def propagation(ceilings, n: int = 400, samples: int = 300, seed: int = 5,
                kind: str = "cap") -> pd.DataFrame:
    """Does the cap on FA give SCI a ceiling in TA?  For each ceiling (a, b) (None: the
    example), on common random numbers: the mean sample d of TA → FA* and TA → SCI over
    ``samples`` latent samples of ``n``, and the 99th and 99.9th percentiles of SCI among cases
    with TA in [−2, −1] (10⁶ draws) — a ceiling would cut them down relative to the example."""
    rows = []
    for label, a, b in ceilings:
        g = Generator("example", a, b, kind=kind)
        v = g.sample(n * samples, np.random.default_rng(seed))
        d7 = np.mean([d_of(v[i * n:(i + 1) * n, g.ita], v[i * n:(i + 1) * n, g.ifa])
                      for i in range(samples)])
        d8 = np.mean([d_of(v[i * n:(i + 1) * n, g.ita], v[i * n:(i + 1) * n, g.isci])
                      for i in range(samples)])
        big = g.sample(1_000_000, np.random.default_rng(seed + 1))
        low = (big[:, g.ita] >= -2) & (big[:, g.ita] <= -1)
        q = np.percentile(big[low, g.isci], [99, 99.9])
        qf = np.percentile(big[low, g.ifa], [99, 99.9])
        rows.append({"ceiling": label, f"mean d TA→FA (N={n})": d7,
                     f"mean d TA→SCI (N={n})": d8, "FA q99, TA in [−2,−1]": qf[0],
                     "FA q99.9": qf[1], "SCI q99, TA in [−2,−1]": q[0], "SCI q99.9": q[1]})
    return pd.DataFrame(rows)


def spread_slopes(ceilings, n: int = 400, samples: int = 200, seed: int = 3,
                  kind: str = "cap") -> pd.DataFrame:
    """The spread null's γ̂ (:func:`~cbec_sem.propositions.necessity_null.scale_slope`, measured
    below the line) on latent TA → FA* samples: a ceiling that binds narrows the scatter below
    the line at low TA, which γ̂ reads as spread growing with TA."""
    rows = []
    for label, a, b in ceilings:
        g = Generator("example", a, b, kind=kind)
        v = g.sample(n * samples, np.random.default_rng(seed))
        rs, gs = [], []
        for i in range(samples):
            x, y = v[i * n:(i + 1) * n, g.ita], v[i * n:(i + 1) * n, g.ifa]
            r = float(normal_scores_correlation(x, y))
            rs.append(r)
            gs.append(scale_slope(x, y, r)[0])
        rows.append({"ceiling": label, f"mean r (N={n})": float(np.mean(rs)),
                     "mean γ̂": float(np.mean(gs)), "SD γ̂": float(np.std(gs))})
    return pd.DataFrame(rows)


def markdown(t: pd.DataFrame) -> str:
    """A Markdown table (floats to 3 decimals), without the optional ``tabulate``."""
    cell = lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(t.columns) + " |", "|" + "---|" * t.shape[1]]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in t.itertuples(index=False)]
    return "\n".join(lines)


def verdict_on(x, y, rng, *, permutations, draws, spread=True):
    r = nca(None, pd.Series(np.asarray(x, float), name="x"),
            pd.Series(np.asarray(y, float), name="y"), ceilings=("ce_fdh",),
            permutations=permutations, seed=rng.integers(2**63))
    v = necessity_verdict(r, draws=draws, seed=rng.integers(2**63), d_threshold=NECESSITY_D,
                          alpha=ALPHA, spread=spread).iloc[0]
    return bool(v["necessary"]), float(v["d"])


def one_rep(gen: Generator, n: int, rng: np.random.Generator, pv: bool) -> dict | None:
    items, latent = gen.survey(n, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cs.fit(cs.paper_model(), items)
        if not res.converged.optimizer_converged:
            return None
        out = {}
        provide = necessity_provider(res, PERMUTATIONS, int(rng.integers(2**63)), ALPHA)
        reg = construct_scores(res, ["TA", "FA", "SCI"], "latent")
        means = construct_scores(res, ["TA", "FA", "SCI"], "mean")
        out["rel_TA"] = float(np.corrcoef(reg["TA"], latent["TA"])[0, 1] ** 2)
        out["rel_FA"] = float(np.corrcoef(reg["FA"], latent["FA"])[0, 1] ** 2)
        for h, o in (("H7", "FA"), ("H8", "SCI")):
            values, _ = provide("TA", o)
            out[("default", h)] = (values["verdict"] == "supported", values["estimate"])
            out[("latent", h)] = verdict_on(latent["TA"], latent[o], rng,
                                            permutations=PERMUTATIONS,
                                            draws=matched_draws(PERMUTATIONS))
            out[("latent_nospread", h)] = verdict_on(latent["TA"], latent[o], rng,
                                                     permutations=999, draws=999, spread=False)
            out[("reg_nospread", h)] = verdict_on(reg["TA"], reg[o], rng, permutations=999,
                                                  draws=999, spread=False)
            out[("means", h)] = verdict_on(means["TA"], means[o], rng, permutations=999,
                                           draws=999)
            if pv:
                v = necessity_verdict_scores(res, "TA", o, plausible_values=20,
                                             seed=rng.integers(2**63),
                                             d_threshold=NECESSITY_D, alpha=ALPHA).iloc[0]
                out[("pv20", h)] = (bool(v["necessary"]), float(v["d"]))
    return out


def run_cell(gen, n, reps, pv_reps, rng):
    rows = [r for r in (one_rep(gen, n, rng, i < pv_reps) for i in range(reps)) if r is not None]
    table = []
    methods = ["default", "latent", "latent_nospread", "reg_nospread", "means", "pv20"]
    for m in methods:
        rec = {}
        for h in ("H7", "H8"):
            got = [r[(m, h)] for r in rows if (m, h) in r]
            if not got:
                continue
            k = len(got)
            rate = float(np.mean([g[0] for g in got]))
            rec[h] = rate
            rec[f"{h}_se"] = float(np.sqrt(rate * (1 - rate) / k))
            rec[f"{h}_d"] = float(np.mean([g[1] for g in got]))
            rec["reps"] = k
        if rec:
            table.append({"method": m, **rec})
    rel = (float(np.mean([r["rel_TA"] for r in rows])), float(np.mean([r["rel_FA"] for r in rows])))
    return table, rel, len(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--pv-reps", type=int, default=0,
                    help="replications per cell that also run the 20-plausible-value verdict")
    ap.add_argument("--pv-cells", default="0.4:high:400,0.5:vhigh:400",
                    help="cells d:loadings:N that run --pv-reps plausible-value replications")
    ap.add_argument("--d", default="0.2,0.3,0.4,0.5")
    ap.add_argument("--loadings", default="example,high,vhigh")
    ap.add_argument("--n", default="400")
    ap.add_argument("--n2", default="800", help="second N, run for --n2-d ceilings only")
    ap.add_argument("--n2-d", default="0.3,0.5")
    ap.add_argument("--n2-loadings", default="example,high")
    ap.add_argument("--slope", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--kind", default="cap", choices=("cap", "truncate"),
                    help="how the ceiling is imposed (see Generator)")
    ap.add_argument("--previous", action="store_true",
                    help="also the previous attempt's ceiling, min(FA, 2 + 1.5·TA) (d_true .28)")
    ap.add_argument("--propagation", action="store_true",
                    help="only the check whether the cap on FA gives SCI a ceiling, and the "
                         "spread null's slope on TA → FA* (latent values)")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.reps, args.d, args.loadings, args.n2_d = 4, "0.5", "example", ""
        args.pv_reps = 1
    threadpool_limits(1)
    t0 = time.process_time()
    if args.propagation:
        cs_ = [("none (the example)", None, args.slope)]  # (label, a, b)
        cs_ += [(f"d_true {d:g}", intercept_for(d, args.slope), args.slope)
                for d in (float(v) for v in args.d.split(",") if v)]
        cs_.append(("previous: min(FA, 2 + 1.5·TA), d_true .28", 2.0, 1.5))
        print(markdown(propagation(cs_, kind=args.kind)))
        print()
        print(markdown(spread_slopes(cs_, kind=args.kind)))
        print(f"\n{time.process_time() - t0:.0f} s CPU")
        return
    ds = [float(v) for v in args.d.split(",") if v]
    n2_d = [float(v) for v in args.n2_d.split(",") if v]
    pv_cells = set(args.pv_cells.split(",")) if args.pv_reps else set()
    ss = np.random.SeedSequence(args.seed)

    print(f"# ceiling ({args.kind}) FA* ≤ a + {args.slope}·TA, restandardised; d_true: the ceiling "
          f"zone in the scope [−3, 3]² (exact); large-sample d: one sample of {LARGE_N:,}")
    base = large_sample_d(Generator("example", None, args.slope), 12)
    print(f"no ceiling (the example): large-sample d(TA→FA) = {base[0]:.3f}, d(TA→SCI) = {base[1]:.3f}")
    intercepts = {}
    for d in ds + [v for v in n2_d if v not in ds]:
        a = intercept_for(d, args.slope)
        intercepts[d] = a
        g = Generator("example", a, args.slope, kind=args.kind)
        d7, d8 = large_sample_d(g, 12)  # a fresh sample: d_true's sampling error shows
        r = np.corrcoef(g.sample(LARGE_N, np.random.default_rng(13))[:, [g.ita, g.ifa]].T)[0, 1]
        ta, fa = g._ta_fa(LARGE_N, np.random.default_rng(14))
        print(f"d_true {d:.2f}: a = {a:.3f}; large-sample d(TA→FA*) = {d7:.3f}, d(TA→SCI) = {d8:.3f}, "
              f"cor(TA, FA*) = {r:.3f}, share of cases capped = "
              f"{np.mean(fa > a + args.slope * ta):.3f}")
    print(f"({time.process_time() - t0:.0f} s CPU)\n")

    cells = [(d, ld, int(n), args.slope) for n in args.n.split(",")
             for ld in args.loadings.split(",") for d in ds]
    if args.n2:
        cells += [(d, ld, int(args.n2), args.slope) for ld in args.n2_loadings.split(",")
                  for d in n2_d]
    if args.previous:  # the attempt that was not merged: FA* = min(FA, 2 + 1.5·TA)
        prev = round(scope_d(2.0, 1.5), 4)
        intercepts[prev] = 2.0
        cells.append((prev, "example", int(args.n.split(",")[0]), 1.5))
    header = ("| d_true | loadings | N | method | reps | H7 supported (SE) | H8 supported (SE) "
              "| mean d H7 | mean d H8 |")
    print(header)
    print("|" + "---|" * 9)
    for (d, ld, n, slope), child in zip(cells, ss.spawn(len(cells))):
        gen = Generator(ld, intercepts[d], slope, kind=args.kind)
        pv = args.pv_reps if f"{d:g}:{ld}:{n}" in pv_cells or args.quick else 0
        t = time.process_time()
        table, rel, ok = run_cell(gen, n, args.reps, pv, np.random.default_rng(child))
        for row in table:
            print(f"| {d:.2f} | {ld} | {n} | {row['method']} | {row['reps']} | "
                  f"{row['H7']:.2f} ({row['H7_se']:.2f}) | {row['H8']:.2f} ({row['H8_se']:.2f}) "
                  f"| {row['H7_d']:.3f} | {row['H8_d']:.3f} |", flush=True)
        print(f"<!-- cell d={d} {ld} N={n} slope {slope}: {ok} converged of {args.reps}; "
              f"R²(score, true) TA {rel[0]:.3f} FA {rel[1]:.3f}; "
              f"{time.process_time() - t:.0f} s CPU -->", flush=True)
    print(f"\ntotal {time.process_time() - t0:.0f} s CPU")


if __name__ == "__main__":
    main()
