"""The analysis settings a YAML/TOML model file may declare beside its ``items`` (or
``model``) and ``hypotheses``, for the ``cbec-sem`` commands:

.. code-block:: yaml

    items: {TA: [q1, q2, q3, q4], FA: [q5, q6, q7, q8], ...}
    hypotheses: [H1, H2, H3, H4, H5]
    scale: [1, 7]              # answer scale of every item (range checks, reverse-keying)
    reverse: [q7]              # reverse-keyed items: x -> low + high - x
    ordered: [q1, q2]          # items treated as ordinal (or true: all of them)
    missing: fiml              # listwise | fiml | pairwise (estimators differ; see cs.fit)
    estimator: MLR
    group: channel             # multi-group fit
    bootstrap: 2000            # draws (standard errors and intervals from the bootstrap)
    seed: 42
    alpha: 0.05                # significance level of the verdicts
    correction: holm           # family-wise correction of the hypotheses' p values
    interaction_method: dblcent  # dblcent | rca | lms | qml (H5, H6)
    nca_permutations: 10000    # permutations of the NCA test (H7, H8)

An option given on the command line overrides the file.  Values are checked here for their
type (one readable line naming the key); the library checks their meaning when it uses them
(an unknown estimator is refused by ``cs.fit`` with the list of estimators).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import SpecError

__all__ = ["MODEL_KEYS", "SETTING_KEYS", "settings_from_mapping", "Settings"]

#: keys that say what the model is
MODEL_KEYS = ("items", "hypotheses", "model")


def _text(key: str, value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"{where}: {key!r} must be a word such as "
                        f"{_EXAMPLES[key]}, not {value!r}")
    return value.strip()


def _names(key: str, value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SpecError(f"{where}: {key!r} must be a list of item names, e.g. "
                        f"{_EXAMPLES[key]}, not {value!r}")
    return tuple(value)


def _ordered(key: str, value: Any, where: str) -> tuple[str, ...] | bool:
    if isinstance(value, bool):
        return value
    return _names(key, value, where)


def _scale(key: str, value: Any, where: str) -> tuple[float, float]:
    ok = (isinstance(value, list) and len(value) == 2
          and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                  and math.isfinite(v) for v in value)
          and value[0] < value[1])
    if not ok:
        raise SpecError(f"{where}: 'scale' must be the lowest and highest answer, e.g. [1, 7], "
                        f"not {value!r}")
    return float(value[0]), float(value[1])


def _whole(key: str, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SpecError(f"{where}: {key!r} must be a whole number ≥ 0, e.g. "
                        f"{_EXAMPLES[key]}, not {value!r}")
    return int(value)


def _level(key: str, value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise SpecError(f"{where}: {key!r} must be a probability between 0 and 1, e.g. 0.05, "
                        f"not {value!r}")
    return float(value)


_EXAMPLES = {"estimator": "MLR", "missing": "fiml", "group": "channel",
             "correction": "holm", "interaction_method": "dblcent", "reverse": "[q7, q12]",
             "ordered": "[q1, q2]", "bootstrap": "2000", "seed": "42",
             "nca_permutations": "10000"}

#: key -> checker of its value
SETTING_KEYS = {
    "scale": _scale, "reverse": _names, "ordered": _ordered, "missing": _text,
    "estimator": _text, "group": _text, "bootstrap": _whole, "seed": _whole,
    "alpha": _level, "correction": _text, "interaction_method": _text,
    "nca_permutations": _whole,
}


@dataclass(frozen=True)
class Settings:
    """The settings a model file declared (only those keys: :meth:`get` falls back)."""

    values: Mapping[str, Any]

    def get(self, key: str, command_line: Any = None, default: Any = None) -> Any:
        """The command line's value if given, else the file's, else ``default``."""
        if command_line is not None:
            return command_line
        return self.values.get(key, default)

    def unused(self, used: tuple[str, ...]) -> list[str]:
        """The declared keys a command does not use."""
        return [k for k in self.values if k not in used]


def settings_from_mapping(content: Mapping, where: str) -> Settings:
    """The settings of a parsed model file; unknown keys are refused with the list of keys."""
    unknown = sorted(set(content) - set(MODEL_KEYS) - set(SETTING_KEYS), key=str)
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {unknown}; the keys are "
                        f"{', '.join(map(repr, MODEL_KEYS + tuple(SETTING_KEYS)))}")
    return Settings({k: check(k, content[k], where) for k, check in SETTING_KEYS.items()
                     if k in content and content[k] is not None})
