"""The :class:`Survey` result: cleaned item data plus everything found while reading it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..protocol import Block, ResultProtocol, Summary
from .codebook import Codebook

__all__ = ["Survey"]

_SHOWN_CHECKS = 30


#: Key of ``DataFrame.attrs`` under which :meth:`Survey.to_frame` stores the items' scales.
SCALES_ATTR = "cbec_sem_scales"


@dataclass(frozen=True, repr=False, eq=False)
class Survey(ResultProtocol):
    """A questionnaire data set, read and checked by :func:`cbec_sem.survey.load_survey`.

    Attributes:
        data: the items as float64 (non-numeric cells missing; reverse-keying and, with
            ``out_of_range="missing"``, out-of-range removal applied); every other column as read.
        raw: the table as read, before any change.
        items: the item columns, in data order.
        codebook: label, scale, reverse flag and value labels per item (and per other labelled
            column of an SPSS/Stata file).
        checks: findings, one row each: check, severity, column, rows (0-based positions),
            count, message.  Errors first.
        missingness: per item, ``n_missing`` and ``pct_missing`` (0-100) in ``data``.
        respondent_missingness: per row of ``data`` (same index), ``n_missing`` and
            ``pct_missing`` over the items.
        longstring: per row, the longest run of identical consecutive answers across the items
            as answered (before reverse-keying); a missing answer ends a run.
        source: where the data came from.
        id_column: the respondent id column, if one was named.

    Examples:
        >>> survey = cs.load_survey(cs.datasets.example_survey(), id_column="firm_id",
        ...                         items=["fa1", "fa2", "fa3", "fa4"], scale=(1, 7))
        >>> survey.data.shape
        (400, 23)
        >>> survey.missingness.head(2)
              n_missing  pct_missing
        item
        fa1           0          0.0
        fa2           0          0.0
    """

    data: pd.DataFrame
    raw: pd.DataFrame
    items: tuple[str, ...]
    codebook: Codebook
    checks: pd.DataFrame
    missingness: pd.DataFrame
    respondent_missingness: pd.DataFrame
    longstring: pd.Series
    source: str = "DataFrame"
    id_column: str | None = field(default=None)

    # -- access ---------------------------------------------------------------------------------

    def to_frame(self) -> pd.DataFrame:
        """The cleaned data (a copy of :attr:`data`), for functions that take a DataFrame.

        The items' answer scales travel along in ``frame.attrs["cbec_sem_scales"]``, so that
        the fit's data check can still judge out-of-range answers
        (:func:`cbec_sem.survey.fit_checks.check_fit_data`)."""
        frame = self.data.copy()
        frame.attrs[SCALES_ATTR] = {k: v for k, v in self.scales.items() if v is not None}
        return frame

    @property
    def n_respondents(self) -> int:
        """Number of rows."""
        return len(self.data)

    @property
    def scales(self) -> dict[str, tuple[float, float] | None]:
        """Item -> (low, high) scale used for the checks and reverse-keying (None if unknown)."""
        return {
            item: (info.scale if (info := self.codebook.get(item)) is not None else None)
            for item in self.items
        }

    @property
    def reversed_items(self) -> tuple[str, ...]:
        """Items that were reverse-keyed in :attr:`data`."""
        return tuple(
            item for item in self.items if (info := self.codebook.get(item)) and info.reverse
        )

    @property
    def errors(self) -> pd.DataFrame:
        """The rows of :attr:`checks` with severity ``"error"``."""
        return self.checks[self.checks["severity"] == "error"].reset_index(drop=True)

    @property
    def has_errors(self) -> bool:
        """Whether any check has severity ``"error"``."""
        return bool((self.checks["severity"] == "error").any())

    # -- printing -------------------------------------------------------------------------------

    def _text(self) -> str:
        """A plain-text account of the data and the checks."""
        items = list(self.items)
        shown = ", ".join(items if len(items) <= 12 else items[:6] + ["..."] + items[-3:])
        lines = [
            f"Survey from {self.source}: {self.n_respondents} respondents, "
            f"{len(items)} items ({shown})",
        ]
        if self.id_column is not None:
            lines.append(f"Id column: {self.id_column}")
        by_scale: dict[str, list[str]] = {}
        for item, scale in self.scales.items():
            key = "none" if scale is None else f"{scale[0]:g}-{scale[1]:g}"
            by_scale.setdefault(key, []).append(item)
        lines.append(
            "Scales: " + "; ".join(f"{key} ({len(names)} items)" for key, names in by_scale.items())
        )
        reversed_items = self.reversed_items
        lines.append(
            "Reverse-keyed: " + (", ".join(reversed_items) if reversed_items else "none")
        )
        cells = self.n_respondents * len(items)
        n_missing = int(self.missingness["n_missing"].sum())
        pct = n_missing / cells * 100 if cells else 0.0
        incomplete = int((self.respondent_missingness["n_missing"] > 0).sum())
        lines.append(
            f"Missing: {n_missing} of {cells} answers ({pct:.1f}%); "
            f"{incomplete} respondents with at least one missing answer"
        )
        counts = self.checks["severity"].value_counts()
        lines.append(
            "Checks: "
            + ", ".join(f"{int(counts.get(s, 0))} {s}" for s in ("error", "warning", "info"))
        )
        for _, row in self.checks.head(_SHOWN_CHECKS).iterrows():
            lines.append(f"  [{row['severity']}] {row['check']}: {row['message']}")
        if len(self.checks) > _SHOWN_CHECKS:
            lines.append(f"  ... and {len(self.checks) - _SHOWN_CHECKS} more rows in .checks")
        return "\n".join(lines)

    def __repr__(self) -> str:
        counts = self.checks["severity"].value_counts()
        return (
            f"<Survey {self.n_respondents} respondents x {len(self.items)} items from "
            f"{self.source}; {int(counts.get('error', 0))} errors, "
            f"{int(counts.get('warning', 0))} warnings>"
        )

    def summary(self) -> Summary:
        """The survey's checks (``str()`` is the plain-text report)."""
        return Summary("Survey", (Block("Checks", self.checks),), text=self._text())


