"""What a power study reports: :class:`PowerResult`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..protocol import Block, ResultProtocol, Summary
from ..errors import SpecError
from ..resampling.refit import INADMISSIBLE, NOT_CONVERGED
from .study import MISSING

#: Columns of :attr:`PowerResult.table`, in order.
TABLE_COLUMNS = [
    "n", "id", "kind", "sign", "method", "reps", "completed", "converged", "inadmissible",
    "convergence", "supported", "power", "power.se", "power.converged", "population",
    "mean.est", "sd.est", "mean.se", "bias", "rmse", "coverage", "population.std",
    "mean.std", "std.bias",
]


def summarise(n_values, tests, draws: dict[int, dict[str, np.ndarray]], population: dict,
              methods: dict, reps: int, level: float) -> pd.DataFrame:
    """The tidy table: one row per sample size and hypothesis (see :class:`PowerResult`)."""
    crit = float(norm.ppf(0.5 + level / 2))
    rows = []
    for n in n_values:
        d = draws[n]
        for j, t in enumerate(tests):
            status = d["status"][:, j]
            done = status != MISSING
            ok = done & (status < NOT_CONVERGED)
            completed, converged = int(done.sum()), int(ok.sum())
            supported = int(d["supported"][ok, j].sum())
            est, se, std = d["est"][ok, j], d["se"][ok, j], d["std"][ok, j]
            pop, pop_std = population[t.id]
            power = supported / completed if completed else np.nan
            with np.errstate(all="ignore"):
                row = {
                    "n": n, "id": t.id, "kind": t.kind, "sign": t.sign, "method": methods[t.id],
                    "reps": reps, "completed": completed, "converged": converged,
                    "inadmissible": int(np.sum(done & (status == INADMISSIBLE))),
                    "convergence": converged / completed if completed else np.nan,
                    "supported": supported,
                    "power": power,
                    "power.se": float(np.sqrt(power * (1 - power) / completed))
                    if completed else np.nan,
                    "power.converged": supported / converged if converged else np.nan,
                    "population": pop,
                    "mean.est": _mean(est),
                    "sd.est": float(np.std(est, ddof=1)) if est.size > 1 else np.nan,
                    "mean.se": _mean(se),
                    "bias": _mean(est) - pop,
                    "rmse": float(np.sqrt(np.mean((est - pop) ** 2))) if est.size else np.nan,
                    "coverage": (float(np.mean(np.abs(est - pop) <= crit * se))
                                 if est.size and np.isfinite(pop) and np.isfinite(se).all()
                                 else np.nan),
                    "population.std": pop_std,
                    "mean.std": _mean(std),
                    "std.bias": _mean(std) - pop_std,
                }
            rows.append(row)
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def _mean(x: np.ndarray) -> float:
    return float(np.mean(x)) if x.size else np.nan


@dataclass(frozen=True, eq=False)
class PowerResult(ResultProtocol):
    """A Monte Carlo power study: the table, the replications behind it, and how it was run.

    Attributes:
        table: one row per sample size and hypothesis (tidy):

            * ``n, id, kind, sign, method``;
            * ``reps`` asked for, ``completed`` (fewer only when a Dask cluster was lost),
              ``converged`` (replications whose analysis model converged; inadmissible
              solutions — a negative variance, a correlation beyond ±1 — are kept and counted
              in ``inadmissible``), ``convergence`` = converged / completed;
            * ``supported``: replications in which the hypothesis was supported (p < α and,
              for a directional hypothesis, the expected sign; for necessity d ≥ 0.1 and
              p < α); ``power`` = supported / completed — **a replication that failed to
              converge counts as not supported** (the study a researcher would have run found
              nothing) — with its Monte Carlo standard error ``power.se`` =
              √(power (1 − power) / completed); ``power.converged`` = supported / converged
              (the convention of Mplus' MONTECARLO output);
            * ``population``: the hypothesis's parameter in the population, **unstandardised, in
              the metric of the analysis model** (its scaling: the first loading of each factor
              fixed to 1), i.e. the analysis model fitted to the exact population moments of
              the data it is fitted to (for Likert items, to a 10⁶-case population sample);
              this is the population parameter when the model is correctly specified and its
              pseudo-true value (what ML converges to) otherwise.  For an interaction it is
              the population model's coefficient of the product (0 when it has none), converted
              to the analysis metric with the latent SDs of the main-effects model; what the
              product-indicator model itself converges to, when different, is in ``notes``
              (the method's large-sample bias, which ``bias`` then includes);
            * ``mean.est, sd.est`` (the empirical standard error), ``mean.se`` (the average
              estimated SE: compare with ``sd.est``), ``bias`` = mean.est − population,
              ``rmse`` = √mean((est − population)²), ``coverage``: the share of the
              replications' 95% Wald intervals (est ± 1.96 se; the delta-method interval for an
              indirect effect) that contain ``population``; all over the converged
              replications;
            * ``population.std``: the **standardised** population value (``std.all`` of that
              fit — with a standardised population model and continuous data, the value
              written in the population model; for an interaction b·sd(X)·sd(Z)/sd(Y),
              Wen, Marsh & Hau 2010), ``mean.std`` (mean ``std.all`` estimate), ``std.bias`` =
              mean.std − population.std;
            * necessity hypotheses have no population value: ``mean.est`` is the mean NCA
              effect size d, the other estimate columns are NaN.

        replications: one row per sample size, replication and hypothesis: ``n, rep, id,
            status`` (0 converged, 1 converged but inadmissible, 2 did not converge, 3
            singular sample covariance matrix, −1 not run), ``est, se, std, p, supported``.
        hypotheses: the hypotheses tested.
        n: the sample sizes.
        reps: replications asked for per sample size.
        completed: replications completed over all sample sizes (``reps · len(n)`` unless a
            Dask cluster was lost mid-study; then a warning said how many).
        alpha: significance level of the tests.
        target: the power wanted (default of :meth:`smallest_n`).
        seed: the seed that reproduces the study (the entropy drawn when none was given).
        population: where the population came from (text).
        likert: categories of the items (``None``: continuous).
        backend: where the replications ran.
        elapsed: wall-clock seconds.
        notes: what the user should know (null effects, failures, the population sample, ...).
        interrupted: why the study stopped early, or ``None``.

    Examples:
        >>> pw = cs.power("X =~ x1 + x2 + x3; Y =~ y1 + y2 + y3; Y ~ X", n=[100, 200], reps=10, seed=1,
        ...               population="X =~ 0.8*x1 + 0.7*x2 + 0.7*x3; Y =~ 0.8*y1 + 0.7*y2 + 0.7*y3; Y ~ 0.3*X",
        ...               hypotheses=[cs.Hypothesis.path("H1", "X", "Y")])
        >>> isinstance(pw, cs.PowerResult), pw.n, pw.reps
        (True, (100, 200), 10)
        >>> pw.power_table()
        id    H1
        n
        100  0.7
        200  1.0
        >>> pw.smallest_n()
           id  kind  smallest_n  power  power.se note
        0  H1  path         200    1.0       0.0
    """

    table: pd.DataFrame
    replications: pd.DataFrame
    hypotheses: tuple
    n: tuple[int, ...]
    reps: int
    completed: int
    alpha: float
    target: float
    seed: int
    population: str
    likert: int | None
    backend: str
    elapsed: float
    notes: tuple[str, ...] = field(default=())
    interrupted: str | None = None

    # ------------------------------------------------------------------ views
    def smallest_n(self, target: float | None = None) -> pd.DataFrame:
        """The smallest sample size of the study at which each hypothesis reaches ``target``
        power (default: the study's ``target``).

        Only the sizes simulated are candidates (no interpolation: power curves from Monte
        Carlo are noisy, ±``power.se``).  Returns one row per hypothesis: ``id, kind,
        smallest_n`` (``<NA>`` when no size reaches the target), ``power`` at that size (or at
        the largest size), ``power.se`` and a ``note`` that says what to do when the target is
        not reached.
        """
        target = self.target if target is None else check_target(target)
        out = []
        for h in self.hypotheses:
            sub = self.table[self.table["id"] == h.id].sort_values("n")
            hit = sub[sub["power"] >= target]
            pop = sub["population"].iloc[0] if len(sub) else np.nan
            if len(hit):
                first = hit.iloc[0]
                later = sub[(sub["n"] > first["n"]) & (sub["power"] < target)]
                note = ""
                if len(later):
                    note = (f"power falls below {target:g} again at n = "
                            f"{', '.join(str(int(v)) for v in later['n'])} (Monte Carlo error, "
                            "±power.se): confirm with more replications")
                out.append({"id": h.id, "kind": h.kind, "smallest_n": int(first["n"]),
                            "power": first["power"], "power.se": first["power.se"],
                            "note": note})
                continue
            last = sub.iloc[-1] if len(sub) else None
            if last is None or not np.isfinite(last["power"]):
                note = "no replication completed"
                pw, se = np.nan, np.nan
            else:
                pw, se = last["power"], last["power.se"]
                note = (f"power {pw:.3f} at the largest n = {int(last['n'])} is below "
                        f"{target:g}; simulate larger samples")
                if np.isfinite(pop) and abs(pop) < 1e-8:
                    note = (f"the population value is 0: 'power' is the false-positive rate "
                            f"(about α{'/2' if h.sign != 'two-sided' else ''}), so no n reaches "
                            f"{target:g}")
                elif h.kind == "necessity":
                    note += " (or the necessity claim does not hold in this population)"
            out.append({"id": h.id, "kind": h.kind, "smallest_n": pd.NA, "power": pw,
                        "power.se": se, "note": note})
        frame = pd.DataFrame(out, columns=["id", "kind", "smallest_n", "power", "power.se",
                                           "note"])
        frame["smallest_n"] = frame["smallest_n"].astype("Int64")
        return frame

    def power_table(self) -> pd.DataFrame:
        """Power as a sample size × hypothesis matrix."""
        return self.table.pivot(index="n", columns="id", values="power")[
            [h.id for h in self.hypotheses]]

    def plot(self, ax=None, target: float | None = None, errorbars: bool = True):
        """Power curves: power against n, one line per hypothesis, with ±1.96 Monte Carlo
        standard errors and a line at the target.  Needs matplotlib (imported here).

        Returns the matplotlib Axes.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError:  # pragma: no cover - optional dependency
            raise SpecError("plot() needs matplotlib (pip install cbec-sem[plot])") from None
        target = self.target if target is None else check_target(target)
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        for h in self.hypotheses:
            sub = self.table[self.table["id"] == h.id].sort_values("n")
            x, y = sub["n"].to_numpy(), sub["power"].to_numpy()
            label = f"{h.id} ({h.kind})"
            if errorbars:
                ax.errorbar(x, y, yerr=1.96 * sub["power.se"].to_numpy(), marker="o",
                            capsize=3, label=label)
            else:
                ax.plot(x, y, marker="o", label=label)
        ax.axhline(target, color="grey", linestyle="--", linewidth=1)
        ax.axhline(self.alpha, color="grey", linestyle=":", linewidth=1)
        ax.set_xlabel("sample size n")
        ax.set_ylabel("power")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"Monte Carlo power ({self.reps} replications per n, α = {self.alpha:g})")
        ax.legend(fontsize="small", loc="lower right")
        return ax

    def _text(self) -> str:
        """A readable report: the design, power by n and hypothesis, the smallest n, notes."""
        data = f"Likert items, {self.likert} categories" if self.likert else "continuous"
        lines = [
            f"Monte Carlo power study: {self.reps} replications per sample size, "
            f"n = {', '.join(map(str, self.n))}",
            f"  population: {self.population}",
            f"  data: {data}; α = {self.alpha:g}; seed = {self.seed}",
            f"  ran on {self.backend} in {self.elapsed:.1f} s; "
            f"{self.completed} of {self.reps * len(self.n)} replications completed",
        ]
        if self.interrupted:
            lines.append(f"  INTERRUPTED: {self.interrupted}")
        lines.append("")
        lines.append("Power (share of replications supporting the hypothesis; "
                     "Monte Carlo SE in brackets):")
        ids = [h.id for h in self.hypotheses]
        width = max(8, max(len(i) for i in ids) + 2)
        lines.append("  " + "n".rjust(6) + "".join(i.rjust(width + 8) for i in ids))
        for n in self.n:
            sub = self.table[self.table["n"] == n].set_index("id")
            cells = []
            for i in ids:
                pw, se = sub.at[i, "power"], sub.at[i, "power.se"]
                cells.append((f"{pw:.3f} ({se:.3f})" if np.isfinite(pw) else "NA")
                             .rjust(width + 8))
            lines.append("  " + str(n).rjust(6) + "".join(cells))
        lines.append("")
        lines.append("Estimates at the largest n (population = pseudo-true value of the analysis "
                     "model; coverage of 95% Wald CIs):")
        sub = self.table[self.table["n"] == max(self.n)]
        head = ("id", "population", "mean.est", "bias", "rmse", "coverage", "pop.std",
                "std.bias", "convergence")
        lines.append("  " + "".join(h.rjust(12) for h in head))
        for _, r in sub.iterrows():
            vals = [r["population"], r["mean.est"], r["bias"], r["rmse"], r["coverage"],
                    r["population.std"], r["std.bias"], r["convergence"]]
            lines.append("  " + str(r["id"]).rjust(12) + "".join(
                (f"{v:.4f}" if np.isfinite(v) else "NA").rjust(12) for v in vals))
        lines.append("")
        target = self.target
        lines.append(f"Smallest n with power ≥ {target:g}:")
        for _, r in self.smallest_n().iterrows():
            n = r["smallest_n"]
            text = f"n = {int(n)}" if not pd.isna(n) else "not reached"
            lines.append(f"  {r['id']}: {text}" + (f" — {r['note']}" if r["note"] else ""))
        if self.notes:
            lines.append("")
            lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)

    def __repr__(self) -> str:
        status = f", interrupted ({self.completed} done)" if self.interrupted else ""
        return (f"<PowerResult: {len(self.hypotheses)} hypotheses × n = {list(self.n)}, "
                f"{self.reps} reps{status}; {self.elapsed:.1f} s>")

    def to_frame(self) -> pd.DataFrame:
        """One row per sample size and hypothesis (:attr:`table`)."""
        return self.table.copy()

    def summary(self) -> Summary:
        """Power, bias, coverage and convergence per N (``str()`` is the plain-text report)."""
        return Summary("Monte Carlo power study", (Block("Power", self.power_table()),
                                                  Block("Details", self.table)),
                       text=self._text())


def check_target(target) -> float:
    if isinstance(target, bool) or not isinstance(target, (int, float, np.integer,
                                                           np.floating)) \
            or not (0.0 < float(target) <= 1.0):
        raise SpecError(f"target={target!r} must be a power between 0 and 1 (e.g. 0.8)")
    return float(target)
