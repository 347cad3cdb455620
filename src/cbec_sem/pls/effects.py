"""Total, total indirect and specific indirect effects from path coefficients (batched).

With ``beta[:, i, j]`` the direct effect of i on j in a recursive model, the total effects
are ``T = β + β² + … = β (I − β)⁻¹`` and the total indirect effects ``T − β`` (Bollen 1987,
Sociol. Methodol. 17; seminr ``total_effects``).  A specific indirect effect is the product of
the coefficients along one directed route of two or more paths.
"""

from __future__ import annotations

import numpy as np

__all__ = ["total_effects", "specific_routes", "route_effects"]


def total_effects(beta: np.ndarray) -> np.ndarray:
    """(B, k, k) total effects ``β (I − β)⁻¹``."""
    k = beta.shape[1]
    return beta @ np.linalg.inv(np.eye(k)[None] - beta)


def specific_routes(adjacency: np.ndarray) -> list[tuple[int, ...]]:
    """Every directed route of two or more paths (as construct indices, source first)."""
    k = adjacency.shape[0]
    routes: list[tuple[int, ...]] = []

    def walk(route: tuple[int, ...]) -> None:
        for nxt in np.flatnonzero(adjacency[route[-1]]):
            if nxt in route:
                continue
            extended = (*route, int(nxt))
            if len(extended) >= 3:
                routes.append(extended)
            walk(extended)

    for start in range(k):
        walk((start,))
    return routes


def route_effects(beta: np.ndarray, routes: list[tuple[int, ...]]) -> np.ndarray:
    """(B, len(routes)) products of the coefficients along each route."""
    out = np.ones((beta.shape[0], len(routes)))
    for r, route in enumerate(routes):
        for a, b in zip(route[:-1], route[1:]):
            out[:, r] *= beta[:, a, b]
    return out
