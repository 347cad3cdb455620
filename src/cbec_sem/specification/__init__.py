"""Specification: what theory says, as a ``ModelSpec`` read from and written to lavaan syntax.

* :class:`ModelSpec` — statements and hypotheses, validated, immutable;
* :func:`parse_lavaan` / :func:`write_lavaan` — lavaan model syntax ↔ :class:`Statement` tuples;
* :func:`compile_expression` — the arithmetic of ``:=``, ``==``, ``<``, ``>`` statements;
* :class:`Hypothesis` — one hypothesis (id, kind, statement, constructs, sign);
* :func:`paper_model` and :data:`PAPER_CONSTRUCTS` — the paper's default model.
"""

from __future__ import annotations

from .expressions import Expression, compile_expression
from .hypotheses import Hypothesis
from .model import ModelSpec
from .paper import PAPER_CONSTRUCTS, paper_model
from .statements import Statement
from .syntax import parse_lavaan, write_lavaan

__all__ = [
    "ModelSpec",
    "Hypothesis",
    "Statement",
    "Expression",
    "paper_model",
    "parse_lavaan",
    "write_lavaan",
    "compile_expression",
    "PAPER_CONSTRUCTS",
]
