"""Progress display of the ``cbec-sem`` commands, on stderr (stdout stays the results).

Shown only when stderr is a terminal and ``--quiet`` was not given, so pipes, files, CI logs
and scripts get no bar characters.  tqdm draws the bars (``pip install "cbec-sem[progress]"``);
without tqdm the commands run silently.

* :func:`progress_callback` — a bar with a count (the power study's replications), fed by the
  library's ``progress=`` callback ``f(done, total)``;
* :func:`busy` — elapsed time of work whose length is unknown in advance (a fit with its
  bootstrap and hypothesis tests), refreshed twice a second.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["show_progress", "progress_callback", "busy"]


def show_progress(quiet: bool) -> bool:
    """Whether to draw: stderr is a terminal, ``--quiet`` was not given, tqdm is installed."""
    if quiet or not _stderr_is_tty():
        return False
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


@contextmanager
def progress_callback(desc: str, unit: str, quiet: bool) -> Iterator[Callable | None]:
    """A ``f(done, total)`` that advances a bar on stderr (None when nothing is shown); the
    bar is closed on leaving the block."""
    if not show_progress(quiet):
        yield None
        return
    from tqdm import tqdm

    state: dict[str, object] = {}

    def update(done: int, total: int) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = state["bar"] = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr,
                                      leave=False, dynamic_ncols=True)
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        if state.get("bar") is not None:
            state["bar"].close()


@contextmanager
def busy(desc: str, quiet: bool) -> Iterator[None]:
    """Elapsed time of the work in the block (``desc: 00:12``) on stderr, erased at the end."""
    if not show_progress(quiet):
        yield
        return
    from tqdm import tqdm

    bar = tqdm(total=None, desc=desc, bar_format="{desc}: {elapsed}", file=sys.stderr,
               leave=False)
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(0.5):
            bar.refresh()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        bar.close()
