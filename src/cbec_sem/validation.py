"""One validator for the arguments every public function shares: seeds, counts, probabilities,
method names, sizes and column names.

Each check runs at the boundary of a public function, before any work, and either returns the
value in its canonical form or raises a :class:`~cbec_sem.errors.SpecError` (a bad argument)
that names the argument, shows the value and says what would be accepted (scikit-learn's
``check_random_state``/``check_scalar`` are the model).  Sizes are judged against the memory
they would need, so ``simulate(n=10**10)`` is refused at once instead of failing inside numpy
with a ``MemoryError`` (or swapping for minutes).

This module sits beside :mod:`cbec_sem.errors` at the bottom of the layer order: it imports
only numpy and the errors, so every stage may use it.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

from .errors import CbecSemWarning, SpecError

__all__ = [
    "MAX_NESTING",
    "MAX_PERMUTATIONS",
    "WARN_PERMUTATIONS",
    "check_choice",
    "check_count",
    "check_fit_arguments",
    "check_flag",
    "check_level",
    "check_permutations",
    "check_probability",
    "check_seed",
    "check_size",
    "check_sizes",
    "memory_budget",
    "nesting_depth",
    "suggest",
    "Suggester",
]

#: More permutations than this are refused: 10⁷ already pin a p-value to ±3·10⁻⁴ (its
#: Monte Carlo SD is √(p(1−p)/B)), and 10⁹ would run for hours.
MAX_PERMUTATIONS = 10_000_000
#: More permutations than this are run, with a warning that they take long.
WARN_PERMUTATIONS = 1_000_000


def _shown(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_int(value: object) -> bool:
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


# ------------------------------------------------------------------------------------ seeds


def check_seed(seed: object, name: str = "seed") -> Any:
    """A seed numpy's ``default_rng`` accepts: None, an integer ≥ 0, a ``SeedSequence`` or a
    ``Generator``.  Anything else (``"x"``, ``1.5``, ``True``, ``-1``) is refused by name."""
    if seed is None or isinstance(seed, (np.random.SeedSequence, np.random.Generator)):
        return seed
    if _is_int(seed):
        if int(seed) < 0:  # type: ignore[call-overload]
            raise SpecError(f"{name}={seed!r} must be a non-negative integer (or None)")
        return int(seed)  # type: ignore[call-overload]
    raise SpecError(
        f"{name}={_shown(seed)} must be a non-negative integer, a numpy SeedSequence or "
        f"Generator, or None; got a {type(seed).__name__}"
    )


# ------------------------------------------------------------------------------------ numbers


def check_count(
    value: object, name: str, *, minimum: int = 0, maximum: int | None = None
) -> int:
    """An integer in ``[minimum, maximum]`` (booleans and floats such as ``1.0`` refused)."""
    wanted = "a positive integer" if minimum == 1 else f"a whole number ≥ {minimum}"
    if not _is_int(value):
        raise SpecError(
            f"{name}={_shown(value)} must be {wanted}, not a {type(value).__name__}"
        )
    out = int(value)  # type: ignore[call-overload]
    if out < minimum:
        raise SpecError(f"{name}={out} must be {wanted}")
    if maximum is not None and out > maximum:
        raise SpecError(f"{name}={out:,} is more than the {maximum:,} allowed")
    return out


def check_probability(
    value: object, name: str, *, closed: bool = False
) -> float:
    """A number strictly between 0 and 1 (``closed=True``: 0 and 1 allowed)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise SpecError(f"{name}={_shown(value)} must be a number between 0 and 1")
    out = float(value)
    ok = (0.0 <= out <= 1.0) if closed else (0.0 < out < 1.0)
    if not ok:
        bounds = "between 0 and 1" if closed else "strictly between 0 and 1"
        raise SpecError(f"{name}={out!r} must lie {bounds} (e.g. 0.05)")
    return out


def check_flag(value: object, name: str) -> bool:
    """True or False (numpy's booleans too); ``"no"``, ``0`` or ``None`` are refused, since
    Python would read the string ``"no"`` as true."""
    if not isinstance(value, (bool, np.bool_)):
        raise SpecError(f"{name}={_shown(value)} must be True or False")
    return bool(value)


def check_level(value: object, name: str = "level") -> float:
    """A confidence level strictly between 0 and 1 (e.g. 0.95)."""
    return check_probability(value, name)


def check_choice(
    value: object, name: str, choices: Iterable[str], *, case_sensitive: bool = False
) -> str:
    """One of ``choices`` (by default matched case-insensitively, returned as spelled there)."""
    options = list(choices)
    if not isinstance(value, str):
        raise SpecError(
            f"{name}={_shown(value)} must be one of {', '.join(map(repr, options))}, not a "
            f"{type(value).__name__}"
        )
    for option in options:
        if value == option or (not case_sensitive and value.lower() == option.lower()):
            return option
    hint = suggest(value, options)
    raise SpecError(
        f"{name}={_shown(value)} is not available; choose one of "
        f"{', '.join(map(repr, options))}" + (f" (did you mean {hint!r}?)" if hint else "")
    )


# ------------------------------------------------------------------------------------ sizes


def memory_budget() -> int:
    """Bytes a single array may take: half the machine's physical memory (8 GiB if unknown)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        total = 16 * 2**30
    return max(int(total) // 2, 2**28)


def check_size(
    n: object, name: str = "n", *, cells_per_unit: int = 1, minimum: int = 1,
    what: str = "cases",
) -> int:
    """A number of cases whose table (``n × cells_per_unit`` float64 values) fits in memory.

    Raises:
        SpecError: ``n`` is not an integer ≥ ``minimum``, or the table would need more than
            :func:`memory_budget` bytes (the message says how much).
    """
    out = check_count(n, name, minimum=minimum)
    need = out * max(int(cells_per_unit), 1) * 8
    budget = memory_budget()
    if need > budget:
        raise SpecError(
            f"{name}={out:,} {what} would need about {need / 2**30:,.1f} GiB "
            f"({max(int(cells_per_unit), 1)} values each), more than the "
            f"{budget / 2**30:,.1f} GiB this machine can give one table; use a smaller {name}"
        )
    return out


def check_sizes(
    n: object, name: str = "n", *, cells_per_unit: int = 1, minimum: int = 1
) -> list[int]:
    """One size or a list of sizes (each checked by :func:`check_size`), sorted and distinct."""
    values: Any = [n] if _is_int(n) or isinstance(n, (str, bytes, Real)) else n
    if isinstance(values, Mapping):
        raise SpecError(f"{name} must be a whole number or a list of them, not a mapping")
    try:
        values = list(values)
    except TypeError:
        raise SpecError(f"{name}={_shown(n)} must be a whole number or a list of them") from None
    if not values:
        raise SpecError(f"{name} is empty: give one or more sample sizes, e.g. {name}=[100, 200]")
    return sorted({check_size(v, name, cells_per_unit=cells_per_unit, minimum=minimum)
                   for v in values})


def check_permutations(value: object, name: str = "permutations", *, minimum: int = 0) -> int:
    """A number of permutations: a whole number, at most :data:`MAX_PERMUTATIONS`; more than
    :data:`WARN_PERMUTATIONS` run with a warning."""
    out = check_count(value, name, minimum=minimum, maximum=MAX_PERMUTATIONS)
    if out > WARN_PERMUTATIONS:
        warnings.warn(
            f"{name}={out:,} permutations will take long; {WARN_PERMUTATIONS:,} already give "
            "a p-value to within ±0.001", CbecSemWarning, stacklevel=3)
    return out


# ------------------------------------------------------------------------------------ files

#: YAML/TOML text whose brackets nest deeper than this is refused before it is parsed: no
#: model file or codebook nests more than a few levels, and PyYAML takes seconds on a 10 kB
#: file of 5,000 nested brackets before Python's recursion limit stops it (issue 14).
MAX_NESTING = 100


def nesting_depth(text: str) -> int:
    """The deepest nesting of ``[ ]`` and ``{ }`` in ``text`` (quotes are not skipped, so
    this bounds YAML's and TOML's flow collections from above), in one linear pass."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(text):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(depth - 1, 0)
    return deepest


_BRACKETS = re.compile(r"[\[\]{}]")


# ------------------------------------------------------------------------------------ names


def _bigrams(text: str) -> set[str]:
    text = f" {text.lower()} "
    return {text[i:i + 2] for i in range(len(text) - 1)}


class Suggester:
    """"Did you mean" over a fixed set of candidates, fast on any number of them.

    ``difflib.get_close_matches`` compares a name with every candidate by an O(len²) matcher,
    which took a minute over 50,000 columns (issue 14).  Here the candidates are indexed once
    by their character bigrams (a linear pass); a name is then compared by difflib's ratio
    (with its usual 0.6 cut-off) only with the ``limit`` candidates that share the most
    bigrams with it.  An exact case-insensitive match wins outright.
    """

    def __init__(self, candidates: Iterable[object], *, limit: int = 200) -> None:
        self._pool = [str(c) for c in candidates]
        self._lower: dict[str, str] = {}
        self._index: dict[str, list[int]] = {}
        for k, c in enumerate(self._pool):
            self._lower.setdefault(c.lower(), c)
            if len(c) <= 200:
                for gram in _bigrams(c):
                    self._index.setdefault(gram, []).append(k)
        self._limit = limit

    def __call__(self, name: object) -> str | None:
        import difflib
        from collections import Counter

        target = str(name)
        if target.lower() in self._lower:
            return self._lower[target.lower()]
        if len(target) > 200:
            return None
        hits: Counter[int] = Counter()
        for gram in _bigrams(target):
            hits.update(self._index.get(gram, ()))
        shortlist = [self._pool[k] for k, _ in hits.most_common(self._limit)]
        close = difflib.get_close_matches(target, shortlist, n=1)
        return close[0] if close else None


def suggest(name: object, candidates: Iterable[object]) -> str | None:
    """The candidate closest to ``name`` ("did you mean"), or None (see :class:`Suggester`;
    build one Suggester to look up several names in the same candidates)."""
    return Suggester(candidates)(name)


# ------------------------------------------------------------------------------------ cs.fit

#: Family-wise corrections ``cs.fit(correction=...)`` accepts: statsmodels' ``multipletests``.
CORRECTIONS = ("bonferroni", "sidak", "holm-sidak", "holm", "simes-hochberg", "hommel",
               "fdr_bh", "fdr_by", "fdr_tsbh", "fdr_tsbky")


def check_fit_arguments(**kwargs: Any) -> dict[str, Any]:
    """Check the arguments of ``cs.fit`` that need no data, before any work.

    Pass them by name (any subset): ``estimator``, ``missing``, ``se``, ``bootstrap``,
    ``seed``, ``n_jobs``, ``information``, ``level``, ``alpha``, ``max_iter``,
    ``nca_permutations``, ``correction``, ``std_lv``,
    ``meanstructure``, ``fixed_x``, ``group``.  Returns them in canonical form (e.g. the
    correction's statsmodels spelling).

    Raises:
        SpecError: naming the first argument that is wrong and what it may be.
    """
    out = dict(kwargs)
    if "estimator" in kwargs:
        # the type here; the name itself is the estimator registry's to judge
        estimator = kwargs["estimator"]
        if not isinstance(estimator, str) or not estimator.strip():
            raise SpecError(
                f"estimator={_shown(estimator)} must be an estimator's name, e.g. 'ML', 'MLR', "
                "'WLSMV' or 'auto'")
    if "missing" in kwargs:
        out["missing"] = check_choice(kwargs["missing"], "missing",
                                      ("listwise", "fiml", "ml", "direct", "pairwise", "mean"))
    if "se" in kwargs:
        out["se"] = check_choice(kwargs["se"], "se", ("standard", "bootstrap"))
    if "bootstrap" in kwargs:
        out["bootstrap"] = check_count(kwargs["bootstrap"], "bootstrap", minimum=0,
                                       maximum=MAX_PERMUTATIONS)
    if "seed" in kwargs:
        out["seed"] = check_seed(kwargs["seed"])
    if "n_jobs" in kwargs:
        jobs = check_count(kwargs["n_jobs"], "n_jobs", minimum=-1)
        if jobs == 0:
            raise SpecError("n_jobs=0: give a number of workers ≥ 1, or -1 for all cores")
        out["n_jobs"] = jobs
    if kwargs.get("information") is not None:
        out["information"] = check_choice(kwargs["information"], "information",
                                          ("expected", "observed"))
    for name in ("level", "alpha"):
        if name in kwargs:
            out[name] = check_probability(kwargs[name], name)
    options = kwargs.get("estimator_options")
    if options is not None and not isinstance(options, dict):
        raise SpecError(f"estimator_options={_shown(options)} must be a dict of option names "
                        "and values, e.g. {'scheme': 'factorial'}")
    if "max_iter" in kwargs:
        out["max_iter"] = check_count(kwargs["max_iter"], "max_iter", minimum=1,
                                      maximum=10**6)
    if "nca_permutations" in kwargs:
        out["nca_permutations"] = check_permutations(kwargs["nca_permutations"],
                                                     "nca_permutations")
    if kwargs.get("correction") is not None:
        out["correction"] = check_choice(kwargs["correction"], "correction", CORRECTIONS)
    for name in ("std_lv", "fixed_x"):
        if name in kwargs and not isinstance(kwargs[name], (bool, np.bool_)):
            raise SpecError(f"{name}={_shown(kwargs[name])} must be True or False")
    if kwargs.get("meanstructure") is not None and not isinstance(
            kwargs["meanstructure"], (bool, np.bool_)):
        raise SpecError(f"meanstructure={_shown(kwargs['meanstructure'])} must be True, False "
                        "or None")
    if kwargs.get("group") is not None and not isinstance(kwargs["group"], str):
        raise SpecError(f"group={_shown(kwargs['group'])} must be a column name (text)")
    for name in ("group_equal", "group_partial"):
        if name in kwargs:
            out[name] = _names(kwargs[name], name)
    ordered = kwargs.get("ordered")
    if ordered is not None and not isinstance(ordered, (bool, np.bool_)):
        out["ordered"] = _names(ordered, "ordered")
    return out


def _names(value: object, name: str) -> tuple[str, ...]:
    """One name or an iterable of names, as a tuple of strings."""
    if isinstance(value, str):
        return (value,)
    try:
        items = tuple(value)  # type: ignore[call-overload]
    except TypeError:
        raise SpecError(f"{name}={_shown(value)} must be a name or a list of names") from None
    bad = [v for v in items if not isinstance(v, str)]
    if bad:
        raise SpecError(f"{name} must hold names (text); {_shown(bad[0])} is not one")
    return items


def finite_number(value: object, name: str) -> float:
    """A finite real number (not a bool, not NaN or ±inf)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real) or not math.isfinite(
            float(value)):
        raise SpecError(f"{name}={_shown(value)} must be a finite number")
    return float(value)


def as_sequence(value: object, name: str) -> Sequence[Any]:
    """A list from a single string or an iterable of values (a string is one value)."""
    if isinstance(value, str):
        return [value]
    try:
        return list(value)  # type: ignore[call-overload]
    except TypeError:
        raise SpecError(f"{name}={_shown(value)} must be a name or a list of names") from None
