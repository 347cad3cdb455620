"""The paper's relation model (He Jixin, CBEC supply-chain innovation) as the default ``ModelSpec``.

Constructs and default items (see DESIGN.md)::

    TA =~ ta1 + ta2 + ta3 + ta4
    FA =~ fa1 + fa2 + fa3 + fa4
    PC =~ pc1 + pc2 + pc3
    VP =~ vp1 + vp2 + vp3
    FO =~ fo1 + fo2 + fo3
    IS =~ is1 + is2 + is3
    SCI =~ VP + FO + IS
    FA ~ a*TA
    SCI ~ c*TA + b*FA + PC
    indirect := a*b
    total := c + a*b

with hypotheses H1-H8.  Users map their own questionnaire items onto the first-order
constructs with ``paper_model(items={"TA": [...], ...})`` and pick hypotheses by id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from ..errors import SpecError
from .hypotheses import Hypothesis
from .model import ModelSpec
from .names import name_problem

#: Construct code → description, in the paper's order.
PAPER_CONSTRUCTS: Mapping[str, str] = MappingProxyType(
    {
        "TA": "technological attribute (platform, data/IT, logistics and payment/customs "
        "technology)",
        "FA": "functional attribute (market access, coordination, service and flexibility "
        "functions)",
        "PC": "preconditions (platform technology fit, SCM improvement, entry barriers removed)",
        "VP": "new value proposition for overseas brands",
        "FO": "platform-based flexible supply-chain organisation",
        "IS": "comprehensive integrated service system",
        "SCI": "supply-chain operation innovation, second order over VP, FO, IS",
    }
)

#: First-order construct code → default item names.
PAPER_ITEMS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "TA": ("ta1", "ta2", "ta3", "ta4"),
        "FA": ("fa1", "fa2", "fa3", "fa4"),
        "PC": ("pc1", "pc2", "pc3"),
        "VP": ("vp1", "vp2", "vp3"),
        "FO": ("fo1", "fo2", "fo3"),
        "IS": ("is1", "is2", "is3"),
    }
)

#: The second-order construct and its first-order dimensions.
SECOND_ORDER: tuple[str, tuple[str, ...]] = ("SCI", ("VP", "FO", "IS"))

#: The structural part of the model (labels a, b, c; the mediation effects).
_STRUCTURE = (
    "SCI =~ VP + FO + IS",
    "FA ~ a*TA",
    "SCI ~ c*TA + b*FA + PC",
    "indirect := a*b",
    "total := c + a*b",
)
_DEFINED_NAMES = ("indirect", "total")

#: The paper's hypotheses H1-H8.
PAPER_HYPOTHESES: tuple[Hypothesis, ...] = (
    Hypothesis("H1", "path", "TA → SCI is positive", ("TA", "SCI")),
    Hypothesis("H2", "path", "FA → SCI is positive", ("FA", "SCI")),
    Hypothesis("H3", "path", "TA → FA is positive (FA depends on TA)", ("TA", "FA")),
    Hypothesis(
        "H4",
        "indirect",
        "TA → FA → SCI indirect effect is positive (bootstrap CI excludes 0)",
        ("TA", "FA", "SCI"),
    ),
    Hypothesis(
        "H5", "interaction", "TA × FA → SCI is positive (latent interaction)", ("TA", "FA", "SCI")
    ),
    Hypothesis(
        "H6a", "moderation", "PC moderates TA → SCI (PC × TA → SCI)", ("PC", "TA", "SCI")
    ),
    Hypothesis(
        "H6b", "moderation", "PC moderates FA → SCI (PC × FA → SCI)", ("PC", "FA", "SCI")
    ),
    Hypothesis(
        "H7",
        "necessity",
        "TA is a necessary condition for FA (NCA effect size d ≥ 0.1 and permutation p < .05)",
        ("TA", "FA"),
    ),
    Hypothesis("H8", "necessity", "TA is a necessary condition for SCI", ("TA", "SCI")),
)


def paper_model(
    items: Mapping[str, Sequence[str]] | None = None,
    hypotheses: Sequence[str | Hypothesis] | None = None,
) -> ModelSpec:
    """The paper's relation model, optionally with the user's own items and hypotheses.

    Args:
        items: construct code (``TA``, ``FA``, ``PC``, ``VP``, ``FO``, ``IS``) → the user's item
            names for it; constructs not given keep their default items (``ta1``-``ta4``, ...).
        hypotheses: ``None`` for all of H1-H8; otherwise a sequence whose strings select the
            paper's hypotheses by id and whose :class:`Hypothesis` objects are used as given,
            in the order given.

    Returns:
        A validated :class:`ModelSpec`.

    Raises:
        SpecError: an unknown construct code, a construct left without items, an item used
            twice, items given for the second-order SCI, an item name that is not a string or
            not a valid variable name, an unknown hypothesis id.

    Examples:
        >>> model = cs.paper_model()
        >>> model.latent_variables
        ('TA', 'FA', 'PC', 'VP', 'FO', 'IS', 'SCI')
        >>> [h.id for h in model.hypotheses]
        ['H1', 'H2', 'H3', 'H4', 'H5', 'H6a', 'H6b', 'H7', 'H8']
    """
    assignment = _items(items)
    lines = [f"{code} =~ " + " + ".join(names) for code, names in assignment.items()]
    text = "\n".join(lines + list(_STRUCTURE))
    return ModelSpec.from_lavaan(text, hypotheses=_hypotheses(hypotheses))


def _items(items: Mapping[str, Sequence[str]] | None) -> dict[str, tuple[str, ...]]:
    """The item names of every first-order construct, after the user's overrides, checked."""
    assignment = dict(PAPER_ITEMS)
    if items is None:
        return assignment
    if not isinstance(items, Mapping):
        raise SpecError(
            "items must be a mapping from construct code to item names, e.g. "
            f"{{'TA': ['q1', 'q2', 'q3']}}, not {type(items).__name__}"
        )
    valid = ", ".join(PAPER_ITEMS)
    for code, names in items.items():
        if code == SECOND_ORDER[0]:
            raise SpecError(
                f"SCI takes no items: it is a second-order construct measured by "
                f"{', '.join(SECOND_ORDER[1])}; give items for those instead"
            )
        if code not in PAPER_ITEMS:
            raise SpecError(f"unknown construct code {code!r}; the constructs are {valid}")
        if isinstance(names, str) or not isinstance(names, Sequence):
            raise SpecError(
                f"the items of {code} must be a list of item names, e.g. ['q1', 'q2'], "
                f"not {names!r}"
            )
        if len(names) == 0:
            raise SpecError(f"the construct {code} has no items; give at least one item name")
        for name in names:
            if not isinstance(name, str):
                raise SpecError(
                    f"item names must be strings; got {name!r} ({type(name).__name__}) for {code}"
                )
            problem = name_problem(name)
            if problem is not None:
                raise SpecError(f"the item {name!r} of {code} is not a valid name: it {problem}")
            if name in PAPER_CONSTRUCTS or name in _DEFINED_NAMES:
                raise SpecError(
                    f"the item {name!r} of {code} has the name of a construct or defined "
                    "effect of the model; rename the item"
                )
        assignment[code] = tuple(names)
    owner: dict[str, str] = {}
    for code, names in assignment.items():
        for name in names:
            if name in owner:
                where = (
                    f"twice in {code}"
                    if owner[name] == code
                    else f"in both {owner[name]} and {code}"
                )
                raise SpecError(
                    f"the item {name!r} is used {where}; each item measures one construct"
                )
            owner[name] = code
    return assignment


def _hypotheses(selection: Sequence[str | Hypothesis] | None) -> tuple[Hypothesis, ...]:
    """Resolve the ``hypotheses`` argument of :func:`paper_model`."""
    if selection is None:
        return PAPER_HYPOTHESES
    if isinstance(selection, (str, Hypothesis)):
        selection = (selection,)
    if not isinstance(selection, (list, tuple, set, frozenset)):
        raise SpecError(f"hypotheses={selection!r} must be a list of ids such as 'H1' or "
                        "Hypothesis objects (or None for all of H1-H8)")
    by_id = {h.id: h for h in PAPER_HYPOTHESES}
    out: list[Hypothesis] = []
    for entry in selection:
        if isinstance(entry, Hypothesis):
            out.append(entry)
        elif isinstance(entry, str):
            if entry not in by_id:
                raise SpecError(
                    f"unknown hypothesis id {entry!r}; the paper's hypotheses are "
                    f"{', '.join(by_id)}"
                )
            out.append(by_id[entry])
        else:
            raise SpecError(
                "hypotheses must be ids such as 'H1' or Hypothesis objects, "
                f"not {type(entry).__name__}"
            )
    return tuple(out)
