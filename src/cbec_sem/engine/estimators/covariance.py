"""The convergence status shared by the covariance-structure families (ML and WLS)."""

from __future__ import annotations

from ...errors import AdmissibilityWarning, ConvergenceWarning, IdentificationWarning, warn
from ..admissibility import admissibility_problems, identification_problems
from ..convergence import Convergence
from ..estimate import Estimation


def covariance_convergence(est: Estimation) -> Convergence:
    """Optimiser status plus admissibility and identification checks, each warned about."""
    problems: list[str] = []
    if est.optim.converged:
        problems = admissibility_problems(est) + identification_problems(est)
    status = Convergence(
        optimizer_converged=est.optim.converged,
        admissible=not problems,
        iterations=est.optim.iterations,
        max_gradient=est.optim.max_gradient,
        message=est.optim.message,
        problems=tuple(problems),
    )
    if not est.optim.converged:
        warn(
            f"the model did not converge: {est.optim.message}; estimates are not trustworthy "
            "and standard errors and fit measures are not reported; check the model for "
            "misspecification, rescale variables whose variances differ by orders of "
            "magnitude, or give starting values with start()",
            ConvergenceWarning,
        )
    for problem in problems:
        category = IdentificationWarning if "information matrix" in problem else (
            AdmissibilityWarning)
        warn(problem, category)
    return status
