"""Run the docstring examples of every public name of ``cbec_sem`` with :mod:`doctest`.

Every function and class in ``cbec_sem.__all__`` (and the public functions and classes of the
public modules listed there, such as ``cbec_sem.pls`` and ``cbec_sem.datasets``) is searched
for ``>>>`` examples, including the methods of the classes.  Each docstring runs in a fresh
copy of its module's namespace with ``cs`` (``cbec_sem``), ``np`` and ``pd`` added, under
``NORMALIZE_WHITESPACE | ELLIPSIS``; matplotlib uses the non-interactive Agg backend and the
figures an example opens are closed after it.

Usage::

    PYTHONPATH=src python tools/run_docstring_examples.py [-v] [NAME ...]

NAME limits the run to those public names.  The exit status is 1 when an example fails
(``.ci/run`` runs this after the test suite; ``tests/test_docstrings.py`` only checks that
every public function and class has an example).
"""

from __future__ import annotations

import argparse
import doctest
import inspect
import os
import sys
import time
import types

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import cbec_sem as cs  # noqa: E402

FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def public_objects() -> list[tuple[str, object]]:
    """(qualified name, object) of every public function and class, without repeats."""
    found: list[tuple[str, object]] = []
    seen: set[int] = set()

    def add(name: str, obj: object) -> None:
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and id(obj) not in seen:
            seen.add(id(obj))
            found.append((name, obj))

    modules = [n for n in cs.__all__ if isinstance(getattr(cs, n), types.ModuleType)]
    for name in cs.__all__:
        add(name, getattr(cs, name))
    for name in modules:
        for sub in getattr(getattr(cs, name), "__all__", ()):
            add(f"{name}.{sub}", getattr(getattr(cs, name), sub))
    return found


def _close_figures() -> None:
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def run(names: list[str] | None = None, verbose: bool = False) -> tuple[int, int, list[str]]:
    """Run the examples; return (examples tried, examples failed, names of failing tests)."""
    finder = doctest.DocTestFinder(recurse=True, exclude_empty=True)
    runner = doctest.DocTestRunner(verbose=verbose, optionflags=FLAGS)
    failing: list[str] = []
    for name, obj in public_objects():
        if names and name not in names:
            continue
        module = inspect.getmodule(obj)
        globs = dict(vars(module)) if module is not None else {}
        globs.update(cs=cs, np=np, pd=pd)
        for test in finder.find(obj, name, module=module, globs=globs):
            if not test.examples:
                continue
            start = time.perf_counter()
            result = runner.run(test)
            _close_figures()
            if verbose:
                print(f"{test.name}: {time.perf_counter() - start:.2f} s")
            if result.failed:
                failing.append(test.name)
    return runner.tries, runner.failures, failing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="public names to run (default: all)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    tried, failed, failing = run(args.names or None, args.verbose)
    elapsed = time.perf_counter() - start
    print(f"docstring examples: {tried} tried, {failed} failed in {elapsed:.1f} s")
    if failing:
        print("failing: " + ", ".join(failing))
    if tried == 0:
        print("no examples found", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
