"""The parsed form of one lavaan-syntax statement: the contract between parser and engine.

The parser (:mod:`cbec_sem.specification.syntax`) turns model text into a tuple of :class:`Statement`;
the engine (:mod:`cbec_sem.engine.partable`) turns those into a parameter table.  One
statement is one (lhs, op, rhs) triple with its modifiers, so ``f =~ x1 + a*x2`` becomes two
statements.  Nothing here knows about data or estimation.

Operators (lavaan's, see Rosseel 2012, *J. Stat. Softw.* 48(2), Table 1):

========  ==============================  =========================================
``op``    meaning                         lhs / rhs
========  ==============================  =========================================
``=~``    is measured by (loading)        latent / indicator
``<~``    is formed by (composite)        composite / indicator (PLS only, mode B)
``~``     is regressed on                 outcome / predictor (``X:Z`` = product)
``~~``    (residual) (co)variance         variable / variable
``~1``    intercept or mean               variable / ``""``
``|``     threshold                       ordered item / ``t1``, ``t2``, ...
``~*~``   scaling factor (delta)          ordered item / the same item (built in
                                          code, e.g. by the ordinal invariance
                                          ladder; the parser refuses it)
``:=``    defined parameter               new name / expression text
``==``    equality constraint             expression text / expression text
``<``     inequality constraint           expression text / expression text
``>``     inequality constraint           expression text / expression text
========  ==============================  =========================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

MODEL_OPERATORS = ("=~", "<~", "~", "~~", "~1", "|", "~*~")
CONSTRAINT_OPERATORS = (":=", "==", "<", ">")


@dataclass(frozen=True)
class Statement:
    """One parameter-bearing (or constraint) statement of a model.

    Modifier tuples are empty when the statement carries no modifier of that kind; otherwise
    they have length 1 (the same for every group) or one entry per group (``c(a, b)*x``).

    Attributes:
        lhs: left-hand side (a variable name; an expression for ``==``, ``<``, ``>``).
        op: one of :data:`MODEL_OPERATORS` or :data:`CONSTRAINT_OPERATORS`.
        rhs: right-hand side (a variable name, ``""`` for ``~1``, ``t1``.. for ``|``, or an
            expression for constraint operators).
        fixed: per-group fixed values; ``None`` in an entry leaves that group free.
            ``1*x`` gives ``(1.0,)``; ``c(1, NA)*x`` gives ``(1.0, None)``.
        labels: per-group labels (``a*x`` gives ``("a",)``); ``None`` entries are unlabelled.
        starts: per-group starting values (``start(0.5)*x`` or ``0.5?x``).
        free: per-group explicit freeing (``NA*x`` gives ``(True,)``), which overrides
            lavaan's automatic fixing of the first loading.
        line: 1-based line number in the source text (0 when built in code).
        source: the source line, quoted in error messages.

    ``line`` and ``source`` do not take part in equality, so a model equals its round trip
    through :meth:`ModelSpec.to_lavaan`.
    """

    lhs: str
    op: str
    rhs: str
    fixed: tuple[float | None, ...] = ()
    labels: tuple[str | None, ...] = ()
    starts: tuple[float | None, ...] = ()
    free: tuple[bool, ...] = ()
    line: int = field(default=0, compare=False)
    source: str = field(default="", compare=False)

    @property
    def is_constraint(self) -> bool:
        """True for ``:=``, ``==``, ``<`` and ``>`` statements."""
        return self.op in CONSTRAINT_OPERATORS
