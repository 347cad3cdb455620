"""The codebook: what each questionnaire item means and how it is scored.

A :class:`Codebook` maps variable names to :class:`ItemInfo` records (label, scale range,
reverse-keying flag, value labels).  It can be built in code, from a plain dict, or from a YAML
file, and it is what :func:`cbec_sem.survey.load_survey` returns alongside the data, filled in
with the labels found in SPSS/Stata files and the scale and reverse-keying actually used.

The dict / YAML layout is::

    scale: [1, 7]              # optional: default scale of every item listed below
    reverse: [fa3]             # optional: names to reverse-key (same as reverse: true per item)
    items:
      ta1: {label: "Our platform technology is up to date", scale: [1, 7]}
      fa3: {label: "...", reverse: true, value_labels: {1: Strongly disagree, 7: Strongly agree}}
      vp1:                     # an item with nothing but its name (takes the default scale)
      pc1: {missing: [99, -9]} # answers coding "no answer": read as missing (and reported)

A top-level ``missing: [99]`` gives every item listed the same missing-value codes (SPSS's
user-missing values, Stata's ``mvdecode``).

A mapping without a top-level ``items`` key is read as the ``items`` mapping itself.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from ..protocol import Block, ResultProtocol, Summary
from ..errors import DataError
from ..validation import MAX_NESTING, nesting_depth
from .numeric import NUMBER_PATTERN

__all__ = ["ItemInfo", "Codebook", "normalize_scale"]

Scale = tuple[float, float]
_ITEM_KEYS = frozenset({"label", "scale", "reverse", "value_labels", "missing"})
_TOP_KEYS = frozenset({"items", "scale", "reverse", "missing"})


def _fmt(x: float) -> str:
    """Format a scale bound without a spurious '.0'."""
    return f"{x:g}"


def normalize_scale(value: object, where: str) -> Scale | None:
    """Validate a ``(low, high)`` scale range and return it as a tuple (or None).

    Args:
        value: None, or a length-2 sequence of finite real numbers with low < high.
        where: what the scale belongs to, for the error message (e.g. ``"item 'ta1'"``).

    Raises:
        DataError: if the value is not such a pair.
    """
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise DataError(f"scale of {where} must be a (low, high) pair of numbers, got {value!r}")
    pair = tuple(value)
    ok = len(pair) == 2 and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) for v in pair
    )
    if not ok:
        raise DataError(f"scale of {where} must be a (low, high) pair of numbers, got {value!r}")
    low, high = pair
    if not low < high:
        raise DataError(f"scale of {where} must have low < high, got ({_fmt(low)}, {_fmt(high)})")
    # plain Python numbers, ints kept as ints so that messages read "1-7"
    low, high = (int(v) if float(v).is_integer() else float(v) for v in pair)
    return (low, high)


def _normalize_label_key(key: object) -> object:
    """Value-label keys as numbers where they are numbers: 1.0 -> 1, "2" -> 2."""
    if isinstance(key, str) and NUMBER_PATTERN.fullmatch(key):
        key = float(key)
    if isinstance(key, numbers.Real) and not isinstance(key, bool):
        fkey = float(key)
        return int(fkey) if fkey.is_integer() else fkey
    return key


def _normalize_value_labels(value: object, name: str) -> Mapping[object, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise DataError(
            f"value_labels of item {name!r} must be a mapping value -> label, got {value!r}"
        )
    out: dict[object, str] = {}
    for key, label in value.items():
        if not isinstance(label, (str, numbers.Number)):
            raise DataError(f"value label {label!r} of item {name!r} is not text")
        out[_normalize_label_key(key)] = str(label)
    return MappingProxyType(out)


def _normalize_missing(codes: object, name: str) -> tuple[float, ...] | None:
    """Missing-value codes as a tuple of floats (None when there are none)."""
    if codes is None:
        return None
    if isinstance(codes, (numbers.Real, str)) and not isinstance(codes, bool):
        codes = [codes]
    try:
        values = list(codes)  # type: ignore[call-overload]
    except TypeError:
        raise DataError(f"missing codes of item {name!r} must be a list of numbers, got "
                        f"{codes!r}") from None
    out = []
    for code in values:
        if isinstance(code, str) and NUMBER_PATTERN.fullmatch(code.strip()):
            code = float(code)
        if isinstance(code, bool) or not isinstance(code, numbers.Real) or not math.isfinite(
                float(code)):
            raise DataError(f"missing code {code!r} of item {name!r} is not a finite number")
        out.append(float(code))
    return tuple(dict.fromkeys(out)) or None


@dataclass(frozen=True)
class ItemInfo:
    """What the codebook says about one variable.

    Attributes:
        name: the column name in the data.
        label: the question text or variable label.
        scale: ``(low, high)`` of the answer scale (e.g. ``(1, 7)``), or None if unknown.
        reverse: whether the item is reverse-keyed (scored ``low + high - x``).
        value_labels: answer value -> label (e.g. ``{1: "Strongly disagree"}``), read-only.
        missing: answer codes that mean "no answer" (e.g. ``(99, -9)``); ``load_survey``
            reads them as missing values and reports where.
    """

    name: str
    label: str | None = None
    scale: Scale | None = None
    reverse: bool = False
    value_labels: Mapping[object, str] | None = None
    missing: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise DataError(f"item name must be a non-empty string, got {self.name!r}")
        if self.label is not None and not isinstance(self.label, str):
            raise DataError(f"label of item {self.name!r} must be text, got {self.label!r}")
        if not isinstance(self.reverse, bool):
            raise DataError(
                f"reverse of item {self.name!r} must be true or false, got {self.reverse!r}"
            )
        object.__setattr__(self, "scale", normalize_scale(self.scale, f"item {self.name!r}"))
        object.__setattr__(
            self, "value_labels", _normalize_value_labels(self.value_labels, self.name)
        )
        object.__setattr__(self, "missing", _normalize_missing(self.missing, self.name))

    @classmethod
    def from_dict(
        cls, name: str, info: Mapping[str, Any] | None, *, default_scale: object = None,
        default_missing: object = None,
    ) -> ItemInfo:
        """Build from a mapping with keys ``label``, ``scale``, ``reverse``, ``value_labels``."""
        if info is None:
            info = {}
        if not isinstance(info, Mapping):
            raise DataError(f"codebook entry of item {name!r} must be a mapping, got {info!r}")
        unknown = sorted(set(map(str, info)) - _ITEM_KEYS)
        if unknown:
            raise DataError(
                f"codebook entry of item {name!r} has unknown key(s) {unknown}; "
                f"allowed: {sorted(_ITEM_KEYS)}"
            )
        scale = info.get("scale", default_scale)
        return cls(
            name=name,
            label=info.get("label"),
            scale=scale,
            reverse=info.get("reverse", False),
            value_labels=info.get("value_labels"),
            missing=info.get("missing", default_missing),
        )


@dataclass(frozen=True)
class Codebook(ResultProtocol):
    """A read-only mapping of variable names to :class:`ItemInfo`.

    Attributes:
        items: name -> ItemInfo (items, and any other variable that has labels).

    Examples:
        >>> book = cs.Codebook.from_dict({"ta1": {"scale": [1, 7], "label": "Uses AI in logistics"}})
        >>> book.to_frame()
                             label  scale_low  scale_high  reverse value_labels
        name
        ta1   Uses AI in logistics        1.0         7.0    False         None
    """

    items: Mapping[str, ItemInfo] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.items, Mapping):
            raise DataError(
                f"Codebook.items must be a mapping name -> ItemInfo, got {self.items!r}"
            )
        checked: dict[str, ItemInfo] = {}
        for name, info in self.items.items():
            if not isinstance(info, ItemInfo):
                raise DataError(f"codebook entry {name!r} must be an ItemInfo, got {info!r}")
            if info.name != name:
                raise DataError(f"codebook key {name!r} holds the ItemInfo of {info.name!r}")
            checked[name] = info
        object.__setattr__(self, "items", MappingProxyType(checked))

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any]) -> Codebook:
        """Build a codebook from a dict in the layout described in the module docstring.

        Raises:
            DataError: on unknown keys, bad scales, or reverse names without an entry.
        """
        if isinstance(mapping, Codebook):
            return mapping
        if not isinstance(mapping, Mapping):
            raise DataError(f"a codebook must be a mapping, got {type(mapping).__name__}")
        if "items" in mapping and isinstance(mapping["items"], (Mapping, list, tuple)):
            unknown = sorted(set(map(str, mapping)) - _TOP_KEYS)
            if unknown:
                raise DataError(
                    f"codebook has unknown top-level key(s) {unknown}; allowed: {sorted(_TOP_KEYS)}"
                )
            entries = mapping["items"]
            default_scale = mapping.get("scale")
            default_missing = mapping.get("missing")
            reverse = mapping.get("reverse") or ()
        else:
            entries, default_scale, reverse, default_missing = mapping, None, (), None
        if isinstance(entries, (list, tuple)):
            entries = {name: None for name in entries}
        if isinstance(reverse, str):
            reverse = (reverse,)
        built: dict[str, ItemInfo] = {}
        for name, info in entries.items():
            if isinstance(info, ItemInfo):
                built[str(name)] = info
            else:
                built[str(name)] = ItemInfo.from_dict(str(name), info, default_scale=default_scale,
                                                      default_missing=default_missing)
        for name in reverse:
            if name not in built:
                raise DataError(f"codebook reverse-keys {name!r}, which has no codebook entry")
            built[name] = replace(built[name], reverse=True)
        return cls(built)

    @classmethod
    def from_yaml(cls, path: str | PathLike[str]) -> Codebook:
        """Read a codebook from a YAML file (layout in the module docstring).

        Raises:
            DataError: if the file is missing, is not valid YAML, or has the wrong layout.
        """
        path = Path(path)
        if not path.is_file():
            raise DataError(f"codebook file {str(path)!r} does not exist")
        try:
            import yaml
        except ImportError as exc:  # pragma: no cover - pyyaml is a core dependency
            raise DataError('reading a YAML codebook needs PyYAML: pip install pyyaml') from exc
        nested = DataError(f"codebook file {str(path)!r} is nested too deeply to be a "
                           "codebook")
        try:
            text = path.read_text(encoding="utf-8-sig")
            if nesting_depth(text) > MAX_NESTING:
                raise nested
            content = yaml.safe_load(text)
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise DataError(f"codebook file {str(path)!r} is not valid UTF-8 YAML: {exc}") from exc
        except RecursionError:  # block mappings nested thousands deep
            raise nested from None
        if content is None:
            content = {}
        return cls.from_dict(content)

    @classmethod
    def coerce(cls, value: Codebook | Mapping[str, Any] | str | PathLike[str] | None) -> Codebook:
        """Accept a Codebook, a dict, a YAML path or None (an empty codebook)."""
        if value is None:
            return cls()
        if isinstance(value, Codebook):
            return value
        if isinstance(value, Mapping):
            return cls.from_dict(value)
        if isinstance(value, (str, PathLike)):
            return cls.from_yaml(value)
        raise DataError(
            f"codebook must be a Codebook, a dict or a YAML file path, got {type(value).__name__}"
        )

    # -- use -------------------------------------------------------------------------------------

    def get(self, name: str) -> ItemInfo | None:
        """The entry of ``name``, or None."""
        return self.items.get(name)

    def merge(self, override: Codebook) -> Codebook:
        """A new codebook with the entries of ``override`` laid over this one.

        Field by field, a value set in ``override`` (not None; ``reverse`` when True) wins.
        """
        merged = dict(self.items)
        for name, info in override.items.items():
            base = merged.get(name)
            if base is None:
                merged[name] = info
                continue
            changes = {
                f.name: getattr(info, f.name)
                for f in fields(ItemInfo)
                if f.name != "name" and getattr(info, f.name) not in (None, False)
            }
            merged[name] = replace(base, **changes)
        return Codebook(merged)

    def to_frame(self) -> pd.DataFrame:
        """One row per entry: label, scale_low, scale_high, reverse, value_labels."""
        rows = [
            {
                "name": info.name,
                "label": info.label,
                "scale_low": None if info.scale is None else info.scale[0],
                "scale_high": None if info.scale is None else info.scale[1],
                "reverse": info.reverse,
                "value_labels": None if info.value_labels is None else dict(info.value_labels),
            }
            for info in self.items.values()
        ]
        columns = ["name", "label", "scale_low", "scale_high", "reverse", "value_labels"]
        frame = pd.DataFrame(rows, columns=columns).set_index("name")
        frame["scale_low"] = frame["scale_low"].astype("float64")
        frame["scale_high"] = frame["scale_high"].astype("float64")
        frame["reverse"] = frame["reverse"].astype(bool)
        return frame

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, name: object) -> bool:
        return name in self.items

    def summary(self) -> Summary:
        """One row per item of the codebook."""
        return Summary("Codebook", (Block("Items", self.to_frame()),))

    def __repr__(self) -> str:
        return f"<Codebook: {len(self)} item(s)>"


