"""The path diagram of a fitted model, drawn as SVG text (no Graphviz or other system binary).

Conventions (Bollen, 1989, *Structural Equations with Latent Variables*, ch. 2; semPlot's
defaults, Epskamp, 2015, *Structural Equation Modeling* 22(3), 474-483): latent constructs are
ellipses, observed items rectangles; single-headed arrows are loadings and regressions, labelled
with the standardised estimate (``std.all``) and significance stars; an endogenous construct
shows its R²; a second-order factor points to its first-order constructs; a moderation or
latent interaction (``X:Z`` term, or an ``interaction``/``moderation`` hypothesis) is a dashed
arrow from the moderator onto the moderated path (Hayes, 2018, *Introduction to Mediation,
Moderation, and Conditional Process Analysis*, conceptual diagrams).

Layout: constructs are placed in columns by the longest chain of arrows that leads to them
(a layered drawing, Sugiyama, Tagawa & Toda, 1981); items sit left of the first column, right
of the last, and above constructs in between.  Labels are placed where they overlap no other
label or shape; :func:`label_overlaps` checks that.  A measurement model (one column of
constructs) shows its factor correlations as curved double-headed arrows.  Above ``max_items``
items, or when the items would make the drawing wider than ``max_width``, the items are folded
into their construct ("k items", with a note saying why), and above ``max_constructs``
structural nodes the diagram is refused with a :class:`~cbec_sem.errors.ReportError` naming
the count.

:func:`path_diagram` returns a :class:`Diagram` whose ``svg`` is the drawing; ``Diagram.figure()``
redraws it with matplotlib (optional), for PNG or PDF.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import ReportError, SpecError
from ..validation import check_count, check_flag, finite_number
from ..apa import STAR_NOTE, fmt_num, stars
from ..plotting import pyplot

if TYPE_CHECKING:
    from ..results import FitResult

__all__ = ["Diagram", "path_diagram", "label_overlaps"]

FONT = 13.0          # px, node names
SMALL = 11.0         # px, estimates
ITEM_H = 24.0
ITEM_GAP = 10.0
ELL_RY = 27.0
COL_GAP = 170.0      # room between construct columns for path labels
ITEM_SPAN = 95.0     # room between items and their construct for loading labels
BLOCK_GAP = 34.0
MARGIN = 24.0


def _text_width(text: str, size: float) -> float:
    """A conservative width estimate of sans-serif text (average glyph ≈ 0.62 em)."""
    return 0.62 * size * len(text) + 4.0


# --------------------------------------------------------------------------- scene primitives
@dataclass
class _Node:
    name: str
    kind: str                   # "latent" or "observed"
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0              # full width (ellipse: 2 rx)
    h: float = 0.0
    lines: tuple[str, ...] = ()

    def box(self, pad: float = 0.0) -> tuple[float, float, float, float]:
        return (self.x - self.w / 2 - pad, self.y - self.h / 2 - pad,
                self.x + self.w / 2 + pad, self.y + self.h / 2 + pad)

    def boundary(self, tx: float, ty: float) -> tuple[float, float]:
        """The point where the line from the centre towards (tx, ty) leaves the shape."""
        dx, dy = tx - self.x, ty - self.y
        if dx == 0 and dy == 0:
            return self.x, self.y
        if self.kind == "latent":
            t = 1.0 / math.sqrt((dx / (self.w / 2)) ** 2 + (dy / (self.h / 2)) ** 2)
        else:
            t = min((self.w / 2) / abs(dx) if dx else math.inf,
                    (self.h / 2) / abs(dy) if dy else math.inf)
        return self.x + t * dx, self.y + t * dy


@dataclass
class _Arrow:
    x1: float
    y1: float
    x2: float
    y2: float
    dashed: bool = False
    role: str = "path"          # path, loading, moderation, covariance
    #: a curved, double-headed arrow (a covariance) bends through this control point
    control: tuple[float, float] | None = None

    def at(self, t: float) -> tuple[float, float]:
        """The point at parameter t (a quadratic Bézier curve when curved)."""
        if self.control is None:
            return self.x1 + t * (self.x2 - self.x1), self.y1 + t * (self.y2 - self.y1)
        cx, cy = self.control
        u = 1.0 - t
        return (u * u * self.x1 + 2 * u * t * cx + t * t * self.x2,
                u * u * self.y1 + 2 * u * t * cy + t * t * self.y2)

    def segments(self) -> list[tuple[float, float, float, float]]:
        """The arrow as straight pieces (16 for a curve)."""
        if self.control is None:
            return [(self.x1, self.y1, self.x2, self.y2)]
        pts = [self.at(t) for t in np.linspace(0.0, 1.0, 17)]
        return [(*a, *b) for a, b in zip(pts[:-1], pts[1:])]

    def shift(self, dx: float, dy: float) -> None:
        self.x1 -= dx
        self.x2 -= dx
        self.y1 -= dy
        self.y2 -= dy
        if self.control is not None:
            self.control = (self.control[0] - dx, self.control[1] - dy)


@dataclass
class _Label:
    text: str
    x: float
    y: float
    size: float = SMALL
    role: str = "estimate"

    def box(self) -> tuple[float, float, float, float]:
        w, h = _text_width(self.text, self.size), self.size + 4
        return (self.x - w / 2, self.y - h / 2, self.x + w / 2, self.y + h / 2)


@dataclass
class Diagram:
    """A drawn path diagram: ``svg`` (the SVG text), ``width``/``height`` in px, ``notes``
    (the caption lines) and the shapes, for tests and other renderers.

    Examples:
        >>> import cbec_sem as cs
        >>> from cbec_sem.report.diagram import path_diagram
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey())  # doctest: +SKIP
        >>> path_diagram(res).save("model.svg")                            # doctest: +SKIP
    """

    nodes: list[_Node]
    arrows: list[_Arrow]
    labels: list[_Label]
    width: float
    height: float
    notes: tuple[str, ...] = ()
    title: str = ""
    svg: str = field(default="", repr=False)
    _png: dict = field(default_factory=dict, repr=False)

    def _repr_svg_(self) -> str:
        return self.svg

    def __repr__(self) -> str:
        return (f"<Diagram {len([n for n in self.nodes if n.kind == 'latent'])} constructs, "
                f"{len(self.arrows)} arrows, {self.width:.0f}x{self.height:.0f} px>")

    def save(self, path: str | Path, dpi: int = 150) -> Path:
        """Write ``.svg`` as is; ``.png``/``.pdf`` through matplotlib.

        Raises:
            ReportError: another suffix, or a directory that does not exist.
        """
        path = Path(path)
        if not path.parent.is_dir():
            raise ReportError(f"cannot write {path}: the directory {path.parent} does not exist")
        suffix = path.suffix.lower()
        if suffix == ".svg":
            path.write_text(self.svg, encoding="utf-8")
        elif suffix == ".png":
            path.write_bytes(self.png(dpi))
        elif suffix == ".pdf":
            fig = self.figure()
            fig.savefig(path, dpi=dpi)

            pyplot().close(fig)
        else:
            raise ReportError(f"cannot write a diagram as {suffix or 'a file without suffix'!r}: "
                              "use .svg, .png or .pdf")
        return path

    def png(self, dpi: int = 150) -> bytes:
        """The diagram as PNG bytes (drawn once per dpi through matplotlib, then kept)."""
        if dpi not in self._png:
            import io


            fig = self.figure()
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=dpi)
            pyplot().close(fig)
            self._png[dpi] = buf.getvalue()
        return self._png[dpi]

    def figure(self):
        """The diagram redrawn as a matplotlib Figure (same coordinates, 100 px per inch)."""
        from matplotlib.patches import Ellipse, FancyArrowPatch, Rectangle


        plt = pyplot()
        fig = plt.figure(figsize=(self.width / 100, self.height / 100))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, self.width)
        ax.set_ylim(self.height, 0)
        ax.set_axis_off()
        pt = 72 / 100  # px -> pt at 100 dpi
        for a in self.arrows:
            if a.control is not None:
                from matplotlib.path import Path as MplPath

                curve = MplPath([(a.x1, a.y1), a.control, (a.x2, a.y2)],
                                [MplPath.MOVETO, MplPath.CURVE3, MplPath.CURVE3])
                ax.add_patch(FancyArrowPatch(path=curve, arrowstyle="<|-|>", mutation_scale=10,
                                             lw=1.0, color="#444"))
                continue
            ax.add_patch(FancyArrowPatch((a.x1, a.y1), (a.x2, a.y2), arrowstyle="-|>",
                                         mutation_scale=10, lw=1.1,
                                         ls="--" if a.dashed else "-",
                                         color="#555" if a.dashed else "#222"))
        for n in self.nodes:
            if n.kind == "latent":
                ax.add_patch(Ellipse((n.x, n.y), n.w, n.h, fc="#eef3fb", ec="#1f3b73", lw=1.3))
            else:
                ax.add_patch(Rectangle((n.x - n.w / 2, n.y - n.h / 2), n.w, n.h, fc="white",
                                       ec="#333", lw=1.0))
            for k, line in enumerate(n.lines):
                dy = (k - (len(n.lines) - 1) / 2) * (FONT + 2)
                ax.text(n.x, n.y + dy, line, ha="center", va="center",
                        fontsize=(FONT if k == 0 else SMALL) * pt)
        for lab in self.labels:
            ax.text(lab.x, lab.y, lab.text, ha="center", va="center", fontsize=lab.size * pt,
                    bbox=dict(fc="white", ec="none", pad=0.5))
        for k, note in enumerate(self.notes):
            ax.text(MARGIN, self.height - MARGIN / 2 - (len(self.notes) - 1 - k) * 15, note,
                    fontsize=SMALL * pt, va="bottom")
        return fig


# --------------------------------------------------------------------------- geometry helpers
def _intersects(a, b) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


def _segment_hits_box(x1, y1, x2, y2, box) -> bool:
    """Whether the segment passes through the inside of an axis-aligned box (Liang & Barsky,
    1984, *ACM Transactions on Graphics* 3(1), 1-22: clip the parameter interval [0, 1])."""
    dx, dy = x2 - x1, y2 - y1
    lo, hi = 0.0, 1.0
    for p, q in ((-dx, x1 - box[0]), (dx, box[2] - x1), (-dy, y1 - box[1]), (dy, box[3] - y1)):
        if p == 0:
            if q <= 0:
                return False
            continue
        t = q / p
        if p < 0:
            lo = max(lo, t)
        else:
            hi = min(hi, t)
        if lo >= hi:
            return False
    return True


def label_overlaps(diagram: Diagram) -> list[tuple[str, str]]:
    """Pairs of overlapping labels, and labels that overlap a node (name, label text);
    empty for a clean layout."""
    out = []
    labels = diagram.labels
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            if _intersects(a.box(), b.box()):
                out.append((a.text, b.text))
        for n in diagram.nodes:
            if _intersects(a.box(), n.box()):
                out.append((n.name, a.text))
    for i, a in enumerate(diagram.nodes):
        for b in diagram.nodes[i + 1:]:
            if _intersects(a.box(), b.box()):
                out.append((a.name, b.name))
    return out


# --------------------------------------------------------------------------- model reading
def _estimates(res: FitResult, group: int) -> pd.DataFrame:
    p = res.params
    groups = sorted(int(g) for g in p["group"].unique()) if "group" in p.columns else [1]
    if isinstance(group, (bool, np.bool_)) or group not in groups:
        raise SpecError(f"group={group!r} is not a group of this fit; its groups are numbered "
                        f"{', '.join(map(str, groups))} (1-based, as in params)")
    return p[p["group"] == group] if "group" in p.columns else p


def _index(p: pd.DataFrame) -> dict[tuple[str, str, str], tuple[float, float]]:
    """(lhs, op, rhs) -> (std.all, pvalue) of the first row of each parameter."""
    out: dict[tuple[str, str, str], tuple[float, float]] = {}
    for key, std, pv in zip(zip(p["lhs"], p["op"], p["rhs"]), p["std.all"], p["pvalue"]):
        out.setdefault(key, (float(std), float(pv)))
    return out


def _moderations(res: FitResult, include_hypotheses: bool) -> list[tuple[str, str, str, str]]:
    """(moderator, focal, outcome, hypothesis id or "") of every moderation to draw."""
    out = []
    for outcome, term in res.model.interactions:
        x, z = term.split(":", 1)
        out.append((z, x, outcome, term))
    if include_hypotheses:
        for h in res.model.hypotheses:
            if h.kind == "moderation":
                out.append((h.constructs[0], h.constructs[1], h.constructs[2], h.id))
            elif h.kind == "interaction":
                out.append((h.constructs[1], h.constructs[0], h.constructs[2], h.id))
    return out


def _layers(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layering; a cycle (non-recursive model) stops after len(nodes) rounds."""
    layer = {n: 0 for n in nodes}
    for _ in range(len(nodes)):
        changed = False
        for a, b in edges:
            if layer[b] < layer[a] + 1 and layer[a] + 1 < len(nodes):
                layer[b] = layer[a] + 1
                changed = True
        if not changed:
            break
    return layer


def _spread(values: list[float], sizes: list[float], gap: float) -> list[float]:
    """Centres as close to ``values`` as possible without overlap (sizes are heights), in the
    given order (a 1-D push-apart keeping the mean)."""
    out = list(values)
    for _ in range(50):
        moved = False
        for i in range(1, len(out)):
            need = (sizes[i - 1] + sizes[i]) / 2 + gap
            if out[i] - out[i - 1] < need - 1e-9:
                push = (need - (out[i] - out[i - 1])) / 2
                out[i - 1] -= push
                out[i] += push
                moved = True
        if not moved:
            break
    return out


# --------------------------------------------------------------------------- the drawing
def path_diagram(res: FitResult, *, group: int = 1, items: bool | str = "auto",
                 max_items: int = 60, max_constructs: int = 40, max_width: float = 2400,
                 moderation: bool = True, title: str | None = None) -> Diagram:
    """Draw the fitted model as an SVG path diagram.

    Args:
        res: a fit (:class:`~cbec_sem.results.FitResult`).
        group: which group's estimates to show in a multi-group fit (1-based, as ``params``).
        items: draw the items (``True``), fold them into their constructs (``False``), or
            fold them only when there are more than ``max_items`` or the drawing with items
            would be wider than ``max_width`` px (``"auto"``).
        max_items: the item count above which ``"auto"`` folds items.
        max_width: the width (px) above which ``"auto"`` folds items.
        max_constructs: refuse above this many constructs and structural observed variables.
        moderation: draw the interaction/moderation hypotheses as moderation arrows (product
            terms of the model are always drawn).  Their estimates come from
            ``res.hypotheses`` (std.all and p of the hypothesis row).
        title: a title line above the drawing.

    Returns:
        A :class:`Diagram`; ``.svg`` is the SVG text, ``.save(path)`` writes SVG/PNG/PDF.

    Raises:
        ReportError: more structural nodes than ``max_constructs``.

    Examples:
        >>> import cbec_sem as cs
        >>> res = cs.fit(cs.paper_model(), cs.datasets.example_survey())  # doctest: +SKIP
        >>> d = path_diagram(res)                                          # doctest: +SKIP
        >>> d.svg.startswith("<svg")                                       # doctest: +SKIP
        True
    """
    if not (isinstance(items, (bool, np.bool_)) or items == "auto"):
        raise SpecError(f"items={items!r} must be True, False or 'auto'")
    max_items = check_count(max_items, "max_items")
    max_constructs = check_count(max_constructs, "max_constructs", minimum=1)
    if not (finite_number(max_width, "max_width") > 0):
        raise SpecError(f"max_width={max_width!r} must be a positive number of pixels")
    moderation = check_flag(moderation, "moderation")
    model = res.model
    p = _estimates(res, group)
    table = _index(p)
    nan = (float("nan"), float("nan"))

    def _lookup(_, lhs: str, op: str, rhs: str) -> tuple[float, float]:
        return table.get((lhs, op, rhs), nan)
    indicators = model.indicators
    latents = list(model.latent_variables)
    latent_set = set(latents)
    regressions = [(y, x) for y, x in model.regressions if ":" not in x]
    structural = list(latents)
    for y, x in regressions:
        for v in (x, y):
            if v not in structural:
                structural.append(v)
    if len(structural) > max_constructs:
        raise ReportError(
            f"the model has {len(structural)} constructs and structural variables, more than a "
            f"path diagram can show legibly (max_constructs={max_constructs}); pass a larger "
            "max_constructs, or report the estimates table instead")
    all_items = {lv: [i for i in its if i not in latent_set] for lv, its in indicators.items()}
    n_items = sum(len(v) for v in all_items.values())
    show_items = (n_items <= max_items) if items == "auto" else bool(items)
    notes: list[str] = []

    # R² of endogenous constructs and observed outcomes
    r2 = {}
    try:
        rs = res.rsquare()
        rs = rs[rs["group"] == group] if "group" in rs.columns else rs
        r2 = dict(zip(rs["variable"], rs["r2"]))
    except Exception:  # noqa: BLE001 - a fit without R² still draws
        r2 = {}
    endogenous = {y for y, _ in regressions} | {c for lv in latents for c in indicators.get(lv, ())
                                                 if c in latent_set}

    # nodes
    nodes: dict[str, _Node] = {}
    for name in structural:
        is_latent = name in latent_set
        lines = [name]
        if name in endogenous and name in r2 and np.isfinite(r2[name]):
            lines.append(f"R² = {fmt_num(r2[name], 2, bounded=True)}")
        if is_latent and not show_items and all_items.get(name):
            lines.append(f"{len(all_items[name])} items")
        width = max(_text_width(s, FONT if k == 0 else SMALL) for k, s in enumerate(lines))
        if is_latent:
            nodes[name] = _Node(name, "latent", w=max(84.0, width * 1.35 + 10),
                                h=ELL_RY * 2 + (10 if len(lines) > 2 else 0), lines=tuple(lines))
        else:
            nodes[name] = _Node(name, "observed", w=max(60.0, width + 16), h=ITEM_H + 12,
                                lines=tuple(lines))
    if not show_items and n_items:
        notes.append(f"The {n_items} items are not drawn (more than max_items = {max_items}); "
                     "see the measurement table.")

    # layering: predictor -> outcome, higher-order factor -> its first-order constructs
    edges = [(x, y) for y, x in regressions]
    edges += [(lv, c) for lv in latents for c in indicators.get(lv, ()) if c in latent_set]
    layer = _layers(structural, edges)
    ncols = max(layer.values(), default=0) + 1
    columns = [[n for n in structural if layer[n] == c] for c in range(ncols)]

    def item_side(name: str) -> str:
        if not show_items or not all_items.get(name):
            return "none"
        if layer[name] == 0:
            return "left"
        if layer[name] == ncols - 1:
            return "right"
        return "above"

    item_w = max([_text_width(i, FONT) + 14 for its in all_items.values() for i in its]
                 + [50.0])

    # items in a row above a construct sit far enough apart for their loading labels
    row_slot = max(item_w + ITEM_GAP, 80.0)

    def block(name: str) -> tuple[float, float]:
        """(width, height) of a construct with its items."""
        n = nodes[name]
        side = item_side(name)
        k = len(all_items.get(name, ()))
        if side in ("left", "right"):
            return n.w, max(n.h, k * ITEM_H + (k - 1) * ITEM_GAP)
        if side == "above":
            row = k * row_slot - (row_slot - item_w)
            return max(n.w, row), n.h + ITEM_H + ITEM_SPAN * 0.8
        return n.w, n.h

    # x positions of the columns
    has_left = any(item_side(n) == "left" for n in structural)
    x = MARGIN + (item_w + ITEM_SPAN if has_left else 0)
    col_x = []
    for col in columns:
        width = max(block(n)[0] for n in col)
        col_x.append(x + width / 2)
        x += width + COL_GAP
    for c, col in enumerate(columns):
        for n in col:
            nodes[n].x = col_x[c]

    # y positions: column 0 stacked in model order, later columns at the mean of their
    # predecessors (a barycentre heuristic), pushed apart to avoid overlap
    def anchor(name: str) -> float:
        """y of the construct centre relative to its block's centre."""
        side = item_side(name)
        _, h = block(name)
        return h / 2 - nodes[name].h / 2 if side == "above" else 0.0

    preds = {n: [a for a, b in edges if b == n] for n in structural}
    order_key = {n: i for i, n in enumerate(structural)}
    for c, col in enumerate(columns):
        if c == 0:
            want = [0.0] * len(col)
            sizes = [block(n)[1] for n in col]
            ys = _spread(want, sizes, BLOCK_GAP)
        else:
            want = [np.mean([nodes[a].y for a in preds[n]]) if preds[n] else 0.0 for n in col]
            order = sorted(range(len(col)), key=lambda i: (want[i], order_key[col[i]]))
            col = [col[i] for i in order]
            columns[c] = col
            want = [want[i] - anchor(n) for i, n in zip(order, col)]
            sizes = [block(n)[1] for n in col]
            ys = _spread(want, sizes, BLOCK_GAP)
        for n, yb in zip(col, ys):
            nodes[n].y = yb + anchor(n)

    # clear long arrows: a node of an intermediate column that a straight arrow would cross is
    # moved off the line (up or down, whichever is nearer), its column then re-spread
    for _ in range(4):
        moved = False
        for a, b in edges:
            if layer[b] - layer[a] < 2:
                continue
            A, B = nodes[a], nodes[b]
            for c in range(layer[a] + 1, layer[b]):
                for n in columns[c]:
                    N = nodes[n]
                    top = N.y - block(n)[1] + N.h / 2 if item_side(n) == "above" else N.y - N.h / 2
                    box = (N.x - block(n)[0] / 2 - 6, top - 14, N.x + block(n)[0] / 2 + 6,
                           N.y + N.h / 2 + 14)
                    if _segment_hits_box(A.x, A.y, B.x, B.y, box):
                        t = (N.x - A.x) / (B.x - A.x) if B.x != A.x else 0.5
                        line_y = A.y + t * (B.y - A.y)
                        if N.y <= line_y:
                            N.y -= box[3] - line_y + 2
                        else:
                            N.y += line_y - box[1] + 2
                        moved = True
        if not moved:
            break

    # items
    arrows: list[_Arrow] = []
    labels: list[_Label] = []
    item_nodes: list[_Node] = []
    loading_lines: list[tuple[_Node, _Node, str, str]] = []
    for name in structural:
        side = item_side(name)
        its = all_items.get(name, [])
        N = nodes[name]
        k = len(its)
        for j, item in enumerate(its):
            if side in ("left", "right"):
                total = k * ITEM_H + (k - 1) * ITEM_GAP
                iy = N.y - total / 2 + ITEM_H / 2 + j * (ITEM_H + ITEM_GAP)
                ix = N.x - N.w / 2 - ITEM_SPAN - item_w / 2 if side == "left" else (
                    N.x + N.w / 2 + ITEM_SPAN + item_w / 2)
            elif side == "above":
                total = k * row_slot - (row_slot - item_w)
                ix = N.x - total / 2 + item_w / 2 + j * row_slot
                iy = N.y - N.h / 2 - ITEM_SPAN * 0.8 - ITEM_H / 2
            else:
                continue
            node = _Node(item, "observed", ix, iy, item_w, ITEM_H, (item,))
            item_nodes.append(node)
            std, pv = _lookup(p, name, "=~", item)
            loading_lines.append((N, node, fmt_num(std, 2) + stars(pv), side))

    # second-order loadings and regressions
    path_lines: list[tuple[_Node, _Node, str, str]] = []
    for lv in latents:
        for c in indicators.get(lv, ()):
            if c in latent_set:
                std, pv = _lookup(p, lv, "=~", c)
                path_lines.append((nodes[lv], nodes[c], fmt_num(std, 2) + stars(pv), "loading"))
    for y, xname in regressions:
        std, pv = _lookup(p, y, "~", xname)
        path_lines.append((nodes[xname], nodes[y], fmt_num(std, 2) + stars(pv), "path"))

    all_nodes = list(nodes.values()) + item_nodes
    obstacles = [n.box(2) for n in all_nodes]

    # moderation arrows: target points on the moderated paths
    mods = _moderations(res, moderation) if moderation or model.interactions else []
    hyp = None
    if mods and moderation and model.hypotheses:
        try:
            hyp = res.hypotheses.set_index("id")
        except Exception:  # noqa: BLE001 - a diagram without hypothesis estimates still draws
            hyp = None
    on_edge: dict[tuple[str, str], int] = {}
    mod_specs = []
    for z, xname, y, key in mods:
        if z not in nodes or y not in nodes:
            continue
        k = on_edge.get((xname, y), 0)
        on_edge[(xname, y)] = k + 1
        if xname in nodes and (y, xname) in regressions:
            X, Y = nodes[xname], nodes[y]
            sx, sy = X.boundary(Y.x, Y.y)
            ex, ey = Y.boundary(X.x, X.y)
            t = (0.5, 0.38, 0.62, 0.3, 0.7)[k % 5]
            tx, ty = sx + t * (ex - sx), sy + t * (ey - sy)
        else:
            Y = nodes[y]
            tx, ty = Y.boundary(nodes[z].x, nodes[z].y)
        if ":" in key:
            std, pv = _lookup(p, y, "~", key)
            text = f"{xname}×{z}: " + fmt_num(std, 2) + stars(pv)
        else:
            std = pv = float("nan")
            if hyp is not None and key in hyp.index:
                row = hyp.loc[key]
                row = row.iloc[0] if isinstance(row, pd.DataFrame) else row
                std, pv = float(row["std.all"]), float(row["p"])
            text = f"{key}: " + fmt_num(std, 2) + stars(pv)
        mod_specs.append((nodes[z], tx, ty, text))
        obstacles.append((tx - 6, ty - 6, tx + 6, ty + 6))

    # every arrow first, then the labels, each placed where it crosses no shape, no other
    # label and no other arrow (falling back to the first candidate when nothing is free)
    jobs = []
    for src, dst, text, side in loading_lines:
        sx, sy = src.boundary(dst.x, dst.y)
        ex, ey = dst.boundary(src.x, src.y)
        arrows.append(_Arrow(sx, sy, ex, ey, role="loading"))
        fractions = (0.72, 0.8, 0.64) if side == "above" else (0.55, 0.45, 0.65, 0.35, 0.75)
        jobs.append((text, arrows[-1], fractions, "estimate"))
    for src, dst, text, role in path_lines:
        sx, sy = src.boundary(dst.x, dst.y)
        ex, ey = dst.boundary(src.x, src.y)
        arrows.append(_Arrow(sx, sy, ex, ey, role=role))
        jobs.append((text, arrows[-1], (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78), "estimate"))
    for Z, tx, ty, text in mod_specs:
        sx, sy = Z.boundary(tx, ty)
        arrows.append(_Arrow(sx, sy, tx, ty, dashed=True, role="moderation"))
        jobs.append((text, arrows[-1], (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8), "moderation"))
    # a measurement model (one column, items on the left): construct correlations as curved
    # double-headed arrows on the right, nested by distance
    covariances = []
    if ncols == 1 and len(columns[0]) > 1:
        rank = {n: i for i, n in enumerate(columns[0])}
        right = max(nodes[n].x + nodes[n].w / 2 for n in columns[0])
        for key, (std, pv) in table.items():
            a, op, b = key
            if op == "~~" and a != b and a in rank and b in rank and a in latent_set:
                if rank[a] > rank[b]:
                    a, b = b, a
                A, B = nodes[a], nodes[b]
                gap = rank[b] - rank[a]
                # a quadratic curve reaches half-way to its control point: the arc's right
                # edge is right + 25 + 40 * gap; longer arcs leave their ellipses flatter
                cx = right + 2 * (25 + 40 * gap)
                cy = (A.y + B.y) / 2
                # inner (short) arcs leave steeper than outer ones, so that arcs sharing an
                # ellipse start at different points and do not cross there
                sx, sy = A.boundary(A.x + 100, A.y + 45 / gap)
                ex, ey = B.boundary(B.x + 100, B.y - 45 / gap)
                arrows.append(_Arrow(sx, sy, ex, ey, role="covariance", control=(cx, cy)))
                jobs.append((fmt_num(std, 2, bounded=True) + stars(pv), arrows[-1],
                             (0.5, 0.42, 0.58, 0.34, 0.66), "estimate"))
                covariances.append(key)

    for text, own, fractions, role in jobs:
        candidates = [_Label(text, *own.at(t), role=role) for t in fractions]
        chosen = candidates[0]
        for lab in candidates:
            box = lab.box()
            if any(_intersects(box, o) for o in obstacles):
                continue
            if any(_segment_hits_box(*seg, box)
                   for a in arrows if a is not own for seg in a.segments()):
                continue
            chosen = lab
            break
        labels.append(chosen)
        obstacles.append(chosen.box())

    # extent, then shift everything so the drawing starts at the margin
    boxes = [n.box() for n in all_nodes] + [lab.box() for lab in labels]
    x0 = min(b[0] for b in boxes) - MARGIN
    y0 = min(b[1] for b in boxes) - MARGIN - (26 if title else 0)
    for n in all_nodes:
        n.x -= x0
        n.y -= y0
    for lab in labels:
        lab.x -= x0
        lab.y -= y0
    for a in arrows:
        a.shift(x0, y0)
    right_edge = max([b[2] for b in boxes] + [a.control[0] + x0 for a in arrows
                                              if a.control is not None])
    width = right_edge - x0 + MARGIN
    notes = ["Standardised estimates (std.all); loadings without stars are fixed to set the "
             "scale. " + STAR_NOTE] + notes
    if mod_specs:
        notes.append("Dashed arrows: moderation (interaction) effects on the path they point at.")
    if covariances:
        notes.append("Curved double-headed arrows: correlations between constructs; residual "
                     "variances are not drawn.")
    elif any(op == "~~" for op in p["op"]) and len(structural) > 1:
        notes.append("Covariances and residual variances are not drawn; see the estimates table.")
    width = max([width] + [_text_width(n, SMALL) + 2 * MARGIN for n in notes])
    height = max(b[3] for b in boxes) - y0 + MARGIN + 15 * len(notes)
    diagram = Diagram(list(nodes.values()) + item_nodes, arrows, labels, width, height,
                      tuple(notes), title or "")
    if items == "auto" and show_items and width > max_width:
        folded = path_diagram(res, group=group, items=False, max_items=max_items,
                              max_constructs=max_constructs, max_width=max_width,
                              moderation=moderation, title=title)
        folded.notes = tuple(
            f"The {n_items} items are not drawn (with them the diagram would be {width:.0f} px "
            f"wide, more than max_width = {max_width:g}); see the measurement table."
            if "items are not drawn" in n else n for n in folded.notes)
        folded.width = max([folded.width] + [_text_width(n, SMALL) + 2 * MARGIN
                                              for n in folded.notes])
        folded.svg = _to_svg(folded)
        return folded
    diagram.svg = _to_svg(diagram)
    return diagram


def _to_svg(d: Diagram) -> str:
    esc = html.escape
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="cbec-path-diagram" '
           f'width="{d.width:.0f}" height="{d.height:.0f}" '
           f'viewBox="0 0 {d.width:.1f} {d.height:.1f}" role="img" '
           f'aria-label="{esc(d.title or "path diagram")}" '
           'font-family="Helvetica, Arial, sans-serif">',
           "<defs>"
           '<marker id="cbec-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
           'fill="#222"/></marker>'
           '<marker id="cbec-arrow-mod" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
           'fill="#8a3b12"/></marker></defs>',
           f'<rect width="{d.width:.1f}" height="{d.height:.1f}" fill="white"/>']
    if d.title:
        out.append(f'<text x="{MARGIN}" y="{MARGIN + 4}" font-size="15" font-weight="bold">'
                   f"{esc(d.title)}</text>")
    for a in d.arrows:
        if a.control is not None:
            out.append(f'<path class="{a.role}" d="M{a.x1:.1f},{a.y1:.1f} Q{a.control[0]:.1f},'
                       f'{a.control[1]:.1f} {a.x2:.1f},{a.y2:.1f}" fill="none" stroke="#444" '
                       'stroke-width="1.1" marker-start="url(#cbec-arrow)" '
                       'marker-end="url(#cbec-arrow)"/>')
        elif a.dashed:
            out.append(f'<line class="moderation" x1="{a.x1:.1f}" y1="{a.y1:.1f}" '
                       f'x2="{a.x2:.1f}" y2="{a.y2:.1f}" stroke="#8a3b12" stroke-width="1.3" '
                       'stroke-dasharray="6 4" marker-end="url(#cbec-arrow-mod)"/>')
        else:
            out.append(f'<line class="{a.role}" x1="{a.x1:.1f}" y1="{a.y1:.1f}" '
                       f'x2="{a.x2:.1f}" y2="{a.y2:.1f}" stroke="#222" stroke-width="1.2" '
                       'marker-end="url(#cbec-arrow)"/>')
    for n in d.nodes:
        if n.kind == "latent":
            out.append(f'<ellipse class="construct" data-name="{esc(n.name)}" cx="{n.x:.1f}" '
                       f'cy="{n.y:.1f}" rx="{n.w / 2:.1f}" ry="{n.h / 2:.1f}" fill="#eef3fb" '
                       'stroke="#1f3b73" stroke-width="1.4"/>')
        else:
            out.append(f'<rect class="item" data-name="{esc(n.name)}" x="{n.x - n.w / 2:.1f}" '
                       f'y="{n.y - n.h / 2:.1f}" width="{n.w:.1f}" height="{n.h:.1f}" '
                       'fill="white" stroke="#333" stroke-width="1"/>')
        for k, line in enumerate(n.lines):
            dy = (k - (len(n.lines) - 1) / 2) * (FONT + 2)
            size = FONT if k == 0 else SMALL
            weight = ' font-weight="bold"' if k == 0 and n.kind == "latent" else ""
            out.append(f'<text x="{n.x:.1f}" y="{n.y + dy:.1f}" font-size="{size:g}"{weight} '
                       f'text-anchor="middle" dominant-baseline="central">{esc(line)}</text>')
    for lab in d.labels:
        b = lab.box()
        color = "#8a3b12" if lab.role == "moderation" else "#111"
        out.append(f'<rect x="{b[0]:.1f}" y="{b[1]:.1f}" width="{b[2] - b[0]:.1f}" '
                   f'height="{b[3] - b[1]:.1f}" fill="white" fill-opacity="0.92"/>')
        out.append(f'<text class="estimate" x="{lab.x:.1f}" y="{lab.y:.1f}" '
                   f'font-size="{lab.size:g}" fill="{color}" text-anchor="middle" '
                   f'dominant-baseline="central">{esc(lab.text)}</text>')
    for k, note in enumerate(d.notes):
        y = d.height - MARGIN / 2 - (len(d.notes) - 1 - k) * 15
        out.append(f'<text class="note" x="{MARGIN}" y="{y:.1f}" font-size="{SMALL:g}" '
                   f'fill="#333">{esc(note)}</text>')
    out.append("</svg>")
    return "\n".join(out)
