"""Whether a fit can be trusted: the :class:`Convergence` status behind every estimate.

Every estimator (ML family, WLS family, LMS, QML, PLS) reports one; ``res.converged`` is it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Convergence:
    """Whether a fit can be trusted.  True only when the optimiser reached the optimum **and**
    the solution is admissible; ``res.converged == False`` for either failure.

    Attributes:
        optimizer_converged: the optimiser met its gradient criterion.
        admissible: no negative variances, correlations beyond ±1, non-positive-definite latent
            covariance matrices, or singular information matrix.
        iterations: optimiser iterations.
        max_gradient: largest absolute gradient element at the solution (F scale).
        message: the optimiser's own words.
        problems: each admissibility or identification problem, in plain language.

    Examples:
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey(), seed=1)
        >>> isinstance(res.converged, cs.Convergence), bool(res.converged)
        (True, True)
        >>> res.converged.problems
        ()
    """

    optimizer_converged: bool
    admissible: bool
    iterations: int
    max_gradient: float
    message: str
    problems: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.optimizer_converged and self.admissible

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (bool, np.bool_)):
            return bool(self) == bool(other)
        if isinstance(other, Convergence):
            return (self.optimizer_converged, self.admissible) == (
                other.optimizer_converged, other.admissible)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(bool(self))

    def describe(self) -> str:
        """One line (plus problems) for summaries and warnings."""
        if not self.optimizer_converged:
            head = f"NOT CONVERGED: {self.message}"
        else:
            head = (f"converged after {self.iterations} iterations "
                    f"(max |gradient| {self.max_gradient:.1e})")
            if not self.admissible:
                head += ", but the solution is INADMISSIBLE"
        return "\n".join([head] + [f"  - {p}" for p in self.problems])

    def __repr__(self) -> str:
        return f"Convergence({bool(self)}: {self.describe()})"
