"""Pictures of where an answer differs, to look at rather than read: for a vector or matrix
answer that is out of tolerance (a `Mismatch` of stage "values", "nan" or "bools"), three heat
maps of the student's answer, the expected one (on one colour scale) and how far each element
is outside the tolerance (elements within it neutral), with a colour key, as a PNG data URI for
an `<img>` in a self-contained report, and a caption saying what the picture shows (also its
alt text). A transposed matrix shows as a mirrored pattern, a missing time step as a stripe.

Vectors (and matrices much wider than tall) are drawn as strips stacked top to bottom; arrays of
more than two dimensions show their first 2-D slice (the last two axes) holding a difference,
which the caption names; large arrays are shown in blocks (a block's value is the mean of its
finite elements, its difference the worst in it, so no difference is lost, and differences in
cells too small to see are drawn larger); NaN and inf have colours of their own. Nothing about
the answer can make drawing fail: what cannot be drawn gives no picture.

The picture is a palette image composed with NumPy; Pillow (imported on first use) rasterises
the text and encodes the PNG. The last pictures drawn are kept by the exact answers they show,
so a wrong answer several students share is drawn once.
"""
from __future__ import annotations

import base64
import hashlib
import io
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from grader.compare.mismatch import Mismatch
from grader.course.model import Tolerance

STAGES = ("values", "nan", "bools")
PANEL = 160        # pixels of a side-by-side panel's longer side, at most
STRIP = 480        # pixels of a stacked strip's length, at most
STRIP_HEIGHT = 60  # pixels of a stacked strip's height, at most
CELL = 24          # pixels of one cell's side, at most
THIN = 12          # pixels of a panel's shorter side, at least
VISIBLE = 3        # pixels below which a cell's difference is drawn larger
CHUNK = 1 << 20    # elements handled at once (bounds the memory a large answer costs)
CAPTION = 480      # characters of a caption, at most
MARGIN, GAP, TEXT, SCALE, SWATCH = 8, 14, 14, 96, 12

NEUTRAL = (228, 228, 228)   # within tolerance (or not compared)
NAN = (255, 0, 255)         # NaN; in the difference, NaN or inf in one answer only
INF = (0, 230, 255)         # +inf or -inf
BACKGROUND, INK, FRAME = (255, 255, 255), (40, 40, 40), (150, 150, 150)
# Anchors of the colour scales, interpolated linearly: viridis for values (dark to light, and
# readable in grey), light yellow to dark red for differences.
VALUES = ((68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
          (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37))
DIFFERENCES = ((255, 226, 110), (253, 174, 60), (240, 90, 40), (190, 20, 40), (110, 0, 30))

# The palette: the value scale, the difference scale, the plain colours, then greys from the
# background to the ink for text.
VALUE_STEPS, DIFFERENCE_STEPS, GREYS = 128, 64, 16
_DIFFERENCE0 = VALUE_STEPS
_NEUTRAL, _NAN, _INF, _FRAME, _BACKGROUND = range(192, 197)
_GREY0 = 200


def _ramp(anchors, steps: int) -> np.ndarray:
    anchors = np.asarray(anchors, dtype=float)
    at = np.linspace(0.0, 1.0, len(anchors))
    return np.stack([np.interp(np.linspace(0.0, 1.0, steps), at, anchors[:, k])
                     for k in range(3)], axis=1).round().astype(np.uint8)


def _palette() -> np.ndarray:
    colours = np.zeros((256, 3), np.uint8)
    colours[:VALUE_STEPS] = _ramp(VALUES, VALUE_STEPS)
    colours[_DIFFERENCE0:_DIFFERENCE0 + DIFFERENCE_STEPS] = _ramp(DIFFERENCES, DIFFERENCE_STEPS)
    colours[[_NEUTRAL, _NAN, _INF, _FRAME, _BACKGROUND]] = (NEUTRAL, NAN, INF, FRAME,
                                                            BACKGROUND)
    colours[_GREY0:_GREY0 + GREYS] = _ramp((BACKGROUND, INK), GREYS)
    return colours


PALETTE = _palette()  # index -> RGB


@dataclass(frozen=True)
class Panel:
    """Where one heat map is in the picture: its top-left pixel, its cells (rows, columns and
    pixels of each), and how many elements of the shown slice one cell stands for."""
    title: str
    x: int
    y: int
    rows: int
    columns: int
    cell_width: int
    cell_height: int
    block: tuple[int, int] = (1, 1)

    @property
    def width(self) -> int:
        return self.columns * self.cell_width

    @property
    def height(self) -> int:
        return self.rows * self.cell_height

    def pixel(self, row: int, column: int) -> tuple[int, int]:
        """The pixel (x, y) at the middle of the cell showing element (row, column)."""
        r, c = row // self.block[0], column // self.block[1]
        return (self.x + c * self.cell_width + self.cell_width // 2,
                self.y + r * self.cell_height + self.cell_height // 2)


@dataclass(frozen=True)
class Picture:
    """A PNG as a data URI, the caption saying what it shows (also its alt text), its size in
    pixels, where its panels are (yours, expected, difference), and the leading indices of the
    2-D slice shown when the answer has more dimensions."""
    data_uri: str
    caption: str
    width: int
    height: int
    panels: tuple[Panel, ...] = ()
    slice_index: tuple[int, ...] | None = None


@dataclass
class _Cells:
    """The shown slice reduced to cells: the mean values and codes (0 finite, 1 NaN, 2 inf) of
    both answers, the worst difference (0 within tolerance) and NaN/inf in one answer only."""
    yours: np.ndarray
    yours_code: np.ndarray
    wanted: np.ndarray
    wanted_code: np.ndarray
    worst: np.ndarray
    odd: np.ndarray


def difference_picture(mismatch: Mismatch | None) -> Picture | None:
    """The picture of where an answer differs, or None when there is nothing to draw: no
    mismatch, another stage, a single number, or arrays that are not numbers of one shape."""
    if mismatch is None or mismatch.stage not in STAGES:
        return None
    if mismatch.stage == "values" and mismatch.tolerance is None:
        return None
    try:
        yours, wanted = np.asarray(mismatch.yours), np.asarray(mismatch.wanted)
    except (TypeError, ValueError, OverflowError):
        return None
    if yours.shape != wanted.shape or yours.ndim == 0 or yours.size < 2 \
            or yours.dtype.kind not in "biuf" or wanted.dtype.kind not in "biuf":
        return None
    digest = hashlib.blake2b(digest_size=16)
    for array in (yours, wanted):
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array).view(np.uint8).data)
    key = (mismatch.stage, mismatch.path, mismatch.tolerance, mismatch.count, mismatch.total,
           digest.digest())
    with _DRAWN_LOCK:
        picture = _DRAWN.get(key)
    if picture is None:
        picture = _picture(mismatch, yours, wanted)
        with _DRAWN_LOCK:
            _DRAWN[key] = picture
            while len(_DRAWN) > DRAWN:
                _DRAWN.popitem(last=False)
    return picture


DRAWN = 256  # pictures kept: a wrong answer that several students share is drawn once
_DRAWN: OrderedDict = OrderedDict()
_DRAWN_LOCK = threading.Lock()


def _picture(mismatch: Mismatch, yours: np.ndarray, wanted: np.ndarray) -> Picture:
    tolerance = mismatch.tolerance if mismatch.stage == "values" else None
    shape = yours.shape
    rows, columns = (1, shape[0]) if yours.ndim == 1 else shape[-2:]
    slices = yours.reshape(-1, rows, columns), wanted.reshape(-1, rows, columns)
    index, differing = _first_differing_slice(*slices, mismatch.stage, tolerance)
    stacked = yours.ndim == 1 or columns >= 4 * rows
    block = (math.ceil(rows / (STRIP_HEIGHT if stacked else PANEL)),
             math.ceil(columns / (STRIP if stacked else PANEL)))
    cells = _reduce(slices[0][index], slices[1][index], mismatch.stage, tolerance, block)
    leading = tuple(int(i) for i in np.unravel_index(index, shape[:-2])) \
        if yours.ndim > 2 else None
    canvas, panels = _compose(cells, stacked, block, mismatch.stage, tolerance)
    caption = _caption(mismatch, shape, stacked, leading, differing, slices[0].shape[0], block)
    return Picture(_png(canvas), caption, canvas.shape[1], canvas.shape[0], panels, leading)


# ---- what differs, element by element ------------------------------------------------------

def _zero(tolerance: Tolerance | None) -> bool:
    return tolerance is not None and tolerance.rtol == 0 and tolerance.atol == 0


def _compared(yours: np.ndarray, wanted: np.ndarray, stage: str,
              tolerance: Tolerance | None) -> tuple[np.ndarray, np.ndarray]:
    """Element by element, by the rule of `grader.compare.mismatch.compare`: how far outside the
    tolerance (the difference over the tolerance's bound; the difference itself when the
    tolerance is zero; 0 within), and where NaN or inf is in one answer only."""
    if stage == "bools":
        return np.where(yours != wanted, np.inf, 0.0), np.zeros(yours.shape, bool)
    a, e = yours.astype(float, copy=False), wanted.astype(float, copy=False)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        odd = (np.isnan(a) != np.isnan(e)) | (
            (np.isinf(a) | np.isinf(e)) & (a != e) & ~np.isnan(a) & ~np.isnan(e))
        if tolerance is None:  # the "nan" stage: the values are not compared yet
            return np.zeros(a.shape), odd
        finite = np.isfinite(a) & np.isfinite(e)
        difference = np.where(finite, np.abs(a - e), 0.0)
        if _zero(tolerance):
            return difference, odd
        bound = np.minimum(tolerance.atol + tolerance.rtol * np.abs(e), np.finfo(float).max)
        outside = finite & (difference > bound)
        worst = np.where(outside, difference / np.where(bound > 0, bound, 1.0), 0.0)
        return np.where(outside & (bound <= 0), np.inf, worst), odd


def _first_differing_slice(yours: np.ndarray, wanted: np.ndarray, stage: str,
                           tolerance: Tolerance | None) -> tuple[int, int]:
    """(the index of the first 2-D slice with a difference, how many slices have one)."""
    count, size = yours.shape[0], yours.shape[1] * yours.shape[2]
    if count == 1:
        return 0, 1
    step = max(1, CHUNK // max(size, 1))
    first, differing = None, 0
    for start in range(0, count, step):
        worst, odd = _compared(yours[start:start + step], wanted[start:start + step], stage,
                               tolerance)
        found = ((worst > 0) | odd).reshape(worst.shape[0], -1).any(axis=1)
        if first is None and found.any():
            first = start + int(np.argmax(found))
        differing += int(found.sum())
    return (0 if first is None else first), differing


def _reduce(yours: np.ndarray, wanted: np.ndarray, stage: str, tolerance: Tolerance | None,
            block: tuple[int, int]) -> _Cells:
    """The slice as cells of block[0] x block[1] elements, computed a tile at a time."""
    rows, columns = yours.shape
    fr, fc = block
    shape = (-(-rows // fr), -(-columns // fc))
    cells = _Cells(*(np.zeros(shape, dtype) for dtype in
                     (float, np.int8, float, np.int8, float, bool)))
    tile_columns = fc * max(1, CHUNK // (fc * fr))
    tile_rows = fr * max(1, CHUNK // (fr * min(tile_columns, columns)))
    for top in range(0, rows, tile_rows):
        for left in range(0, columns, tile_columns):
            a = yours[top:top + tile_rows, left:left + tile_columns]
            e = wanted[top:top + tile_rows, left:left + tile_columns]
            worst, odd = _compared(a, e, stage, tolerance)
            at = (slice(top // fr, -(-(top + a.shape[0]) // fr)),
                  slice(left // fc, -(-(left + a.shape[1]) // fc)))
            cells.yours[at], cells.yours_code[at] = _mean(a, block)
            cells.wanted[at], cells.wanted_code[at] = _mean(e, block)
            cells.worst[at] = _pool(worst, block, 0.0).max(axis=(1, 3))
            cells.odd[at] = _pool(odd, block, False).any(axis=(1, 3))
    return cells


def _pool(x: np.ndarray, block: tuple[int, int], fill) -> np.ndarray:
    """x padded with `fill` to whole blocks, as (block rows, rows, block columns, columns)."""
    (r, c), (fr, fc) = x.shape, block
    if r % fr or c % fc:
        x = np.pad(x, ((0, -r % fr), (0, -c % fc)), constant_values=fill)
    return x.reshape(x.shape[0] // fr, fr, x.shape[1] // fc, fc)


def _codes(x: np.ndarray) -> np.ndarray:
    """0 for a finite element, 1 for NaN, 2 for inf."""
    return np.where(np.isnan(x), 1, np.where(np.isinf(x), 2, 0)).astype(np.int8)


def _mean(x: np.ndarray, block: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Each block's mean of its finite elements, and its code: NaN if it holds a NaN, else inf
    if it holds an inf (a block never hides them), else finite."""
    x = x.astype(float, copy=False)
    if block == (1, 1):
        return np.where(np.isfinite(x), x, 0.0), _codes(x)
    finite, size = np.isfinite(x), block[0] * block[1]
    with np.errstate(over="ignore", invalid="ignore"):  # a sum of x / size cannot overflow
        total = _pool(np.where(finite, x / size, 0.0), block, 0.0).sum(axis=(1, 3))
        count = _pool(finite, block, False).sum(axis=(1, 3))
        mean = np.where(count > 0, total * (size / np.maximum(count, 1)), 0.0)
    nan = _pool(np.isnan(x), block, False).any(axis=(1, 3))
    inf = _pool(np.isinf(x), block, False).any(axis=(1, 3))
    code = np.where(nan, 1, np.where(inf, 2, 0)).astype(np.int8)
    return np.where(np.isfinite(mean), mean, 0.0), code


# ---- colours -------------------------------------------------------------------------------

def _value_range(cells: _Cells) -> tuple[float, float, bool]:
    """The value scale both answers share: the expected values' range, widened towards the
    student's by at most twice its width on each side (so that one wild element does not
    flatten the rest); and whether some of the student's values lie beyond it."""
    def extent(values, codes):
        finite = values[codes == 0]
        return (float(finite.min()), float(finite.max())) if finite.size else None

    wanted, yours = extent(cells.wanted, cells.wanted_code), extent(cells.yours,
                                                                     cells.yours_code)
    if wanted is None or yours is None:
        low, high = wanted or yours or (0.0, 0.0)
        return low, high, False
    reach = 2 * (wanted[1] - wanted[0]) if wanted[1] > wanted[0] else math.inf  # may be inf
    low = min(wanted[0], max(yours[0], wanted[0] - reach))
    high = max(wanted[1], min(yours[1], wanted[1] + reach))
    return low, high, yours[0] < low or yours[1] > high


def _value_indices(values: np.ndarray, codes: np.ndarray, low: float, high: float) -> np.ndarray:
    half = high / 2 - low / 2  # halves: no overflow
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        t = (values / 2 - low / 2) / half if half > 0 else np.full(values.shape, 0.5)
    t = np.nan_to_num(np.clip(t, 0.0, 1.0), nan=0.5)
    index = (t * (VALUE_STEPS - 1)).round().astype(np.uint8)
    index[codes == 1] = _NAN
    index[codes == 2] = _INF
    return index


def _difference_range(cells: _Cells, zero: bool) -> tuple[float, float]:
    """The span of the difference scale (logarithmic, at least a factor of 10): from the
    tolerance (1x) to the largest finite ratio; for a zero tolerance, from the smallest
    difference to the largest."""
    finite = cells.worst[np.isfinite(cells.worst) & (cells.worst > 0)]
    if not finite.size:
        return 1.0, 10.0
    largest = float(finite.max())
    if zero:
        return min(float(finite.min()), largest / 10), largest
    return 1.0, max(10.0, largest)


def _difference_indices(cells: _Cells, low: float, high: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        span = math.log10(high) - math.log10(low) if high > low else 0.0
        t = (np.log10(np.maximum(cells.worst, low)) - math.log10(low)) / span if span \
            else np.ones(cells.worst.shape)
    t = np.nan_to_num(np.clip(t, 0.0, 1.0), nan=1.0, posinf=1.0)
    index = (_DIFFERENCE0 + t * (DIFFERENCE_STEPS - 1)).round().astype(np.uint8)
    index[cells.worst <= 0] = _NEUTRAL
    index[cells.odd] = _NAN
    return index


def _widen(pixels: np.ndarray) -> np.ndarray:
    """Differences grown by a pixel on each side (for cells too small to see), the worst
    winning where they meet."""
    rank = np.where(pixels == _NEUTRAL, -1,
                    np.where(pixels == _NAN, 1000, pixels.astype(np.int16)))
    padded = np.pad(rank, 1, constant_values=-1)
    h, w = rank.shape
    grown = np.max([padded[i:i + h, j:j + w] for i in range(3) for j in range(3)], axis=0)
    return np.where(grown < 0, _NEUTRAL, np.where(grown == 1000, _NAN, grown)).astype(np.uint8)


# ---- drawing -------------------------------------------------------------------------------

@cache
def _font():
    from PIL import ImageFont
    try:
        return ImageFont.load_default(size=11)
    except (TypeError, ImportError, OSError):  # Pillow without FreeType: its bitmap font
        return ImageFont.load_default()


@lru_cache(maxsize=1024)
def _text(text: str) -> np.ndarray:
    """The text as palette indices (0 where blank), TEXT pixels high."""
    from PIL import Image, ImageDraw
    font = _font()
    width = max(1, int(math.ceil(font.getbbox(text)[2])) + 1)
    mask = Image.new("L", (width, TEXT), 0)
    ImageDraw.Draw(mask).text((0, 0), text, fill=255, font=font)
    level = (np.asarray(mask, dtype=np.uint16) * (GREYS - 1) + 127) // 255
    ink = np.where(level > 0, _GREY0 + level, 0).astype(np.uint8)
    ink.flags.writeable = False
    return ink


def _put_text(canvas: np.ndarray, x: int, y: int, text: str) -> None:
    ink = _text(text)
    h, w = ink.shape
    region = canvas[y:y + h, x:x + w]
    ink = ink[:region.shape[0], :region.shape[1]]
    np.copyto(region, ink, where=ink > 0)


def _frame(canvas: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> None:
    """A one-pixel frame whose inside is x0..x1 by y0..y1 (exclusive)."""
    canvas[y0 - 1, x0 - 1:x1 + 1] = canvas[y1, x0 - 1:x1 + 1] = _FRAME
    canvas[y0 - 1:y1 + 1, x0 - 1] = canvas[y0 - 1:y1 + 1, x1] = _FRAME


def _geometry(rows: int, columns: int, stacked: bool) -> tuple[int, int]:
    longest_x, longest_y = (STRIP, STRIP_HEIGHT) if stacked else (PANEL, PANEL)
    side = max(1, min(CELL, longest_x // columns, longest_y // rows))
    return max(side, -(-THIN // columns)), max(side, -(-THIN // rows))


def _compose(cells: _Cells, stacked: bool, block: tuple[int, int], stage: str,
             tolerance: Tolerance | None) -> tuple[np.ndarray, tuple[Panel, ...]]:
    """The picture as palette indices, and where its panels are."""
    rows, columns = cells.worst.shape
    cell_width, cell_height = _geometry(rows, columns, stacked)
    low, high, clipped = _value_range(cells)
    zero = _zero(tolerance)
    smallest, largest = _difference_range(cells, zero)
    maps = (("yours", _value_indices(cells.yours, cells.yours_code, low, high)),
            ("expected", _value_indices(cells.wanted, cells.wanted_code, low, high)),
            ("difference", _difference_indices(cells, smallest, largest)))
    width, height = columns * cell_width, rows * cell_height
    if stacked:
        label = max(_text(title).shape[1] for title, _ in maps) + 8
        panels = tuple(Panel(title, MARGIN + label, MARGIN + k * (height + GAP // 2), rows,
                             columns, cell_width, cell_height, block)
                       for k, (title, _) in enumerate(maps))
        right, bottom = MARGIN + label + width, panels[-1].y + height
    else:
        x, panels = MARGIN, []
        for title, _ in maps:
            panels.append(Panel(title, x, MARGIN + TEXT + 2, rows, columns, cell_width,
                                cell_height, block))
            x += max(width, _text(title).shape[1]) + GAP
        panels, right, bottom = tuple(panels), x - GAP, MARGIN + TEXT + 2 + height
    keys = _keys(cells, stage, clipped, (low, high), (smallest, largest), zero)
    key_width = max(sum(_item_width(item) for item in row) for row in keys)
    canvas = np.full((bottom + GAP + len(keys) * (TEXT + 4) - 4 + MARGIN,
                      max(right, MARGIN + key_width) + MARGIN), _BACKGROUND, np.uint8)
    for panel, (title, index) in zip(panels, maps):
        pixels = np.repeat(np.repeat(index, cell_height, axis=0), cell_width, axis=1)
        if title == "difference" and min(cell_width, cell_height) < VISIBLE:
            pixels = _widen(pixels)
        canvas[panel.y:panel.y + height, panel.x:panel.x + width] = pixels
        _frame(canvas, panel.x, panel.y, panel.x + width, panel.y + height)
        if stacked:
            _put_text(canvas, MARGIN, panel.y + (height - TEXT) // 2, title)
        else:
            _put_text(canvas, panel.x, MARGIN, title)
    y = bottom + GAP
    for row in keys:
        _draw_key(canvas, MARGIN, y, row)
        y += TEXT + 4
    return canvas, panels


def _number(x: float) -> str:
    return f"{x:.3g}"


def _keys(cells: _Cells, stage: str, clipped: bool, values: tuple[float, float],
          differences: tuple[float, float], zero: bool) -> list[list[tuple]]:
    """The colour key as rows of items: ("text", words), ("scale", first index, steps, left
    label, right label) or ("swatch", index, label)."""
    first: list = [("text", "values:")]
    if stage == "bools":
        first += [("swatch", 0, "False"), ("swatch", VALUE_STEPS - 1, "True")]
    else:
        first.append(("scale", 0, VALUE_STEPS, ("<= " if clipped else "") + _number(values[0]),
                      (">= " if clipped else "") + _number(values[1])))
    if (cells.yours_code == 1).any() or (cells.wanted_code == 1).any():
        first.append(("swatch", _NAN, "NaN"))
    if (cells.yours_code == 2).any() or (cells.wanted_code == 2).any():
        first.append(("swatch", _INF, "inf"))
    second: list = [("text", "difference:")]
    darkest = _DIFFERENCE0 + DIFFERENCE_STEPS - 1
    if stage == "values":
        second.append(("swatch", _NEUTRAL, "within tolerance"))
        if zero:
            second.append(("scale", _DIFFERENCE0, DIFFERENCE_STEPS, _number(differences[0]),
                           f"{_number(differences[1])} (tolerance 0)"))
        else:
            second.append(("scale", _DIFFERENCE0, DIFFERENCE_STEPS, "1x",
                           f"{_number(differences[1])}x tolerance"))
    elif stage == "bools":
        second += [("swatch", _NEUTRAL, "same"), ("swatch", darkest, "differs")]
    else:
        second += [("swatch", _NEUTRAL, "not compared yet"),
                   ("swatch", _NAN, "NaN or inf in one answer only")]
    return [first, second]


def _item_width(item: tuple) -> int:
    if item[0] == "text":
        return _text(item[1]).shape[1] + 6
    if item[0] == "scale":
        return _text(item[3]).shape[1] + SCALE + _text(item[4]).shape[1] + 20
    return SWATCH + 4 + _text(item[2]).shape[1] + 12


def _draw_key(canvas: np.ndarray, x: int, y: int, items: list[tuple]) -> None:
    middle = y + TEXT // 2
    for item in items:
        if item[0] == "text":
            _put_text(canvas, x, y, item[1])
        elif item[0] == "scale":
            _, start, steps, left, right = item
            _put_text(canvas, x, y, left)
            bar = x + _text(left).shape[1] + 4
            canvas[middle - 5:middle + 5, bar:bar + SCALE] = \
                start + np.arange(SCALE) * (steps - 1) // (SCALE - 1)
            _frame(canvas, bar, middle - 5, bar + SCALE, middle + 5)
            _put_text(canvas, bar + SCALE + 5, y, right)
        else:
            _, index, label = item
            top = middle - SWATCH // 2
            canvas[top:top + SWATCH, x:x + SWATCH] = index
            _frame(canvas, x, top, x + SWATCH, top + SWATCH)
            _put_text(canvas, x + SWATCH + 4, y, label)
        x += _item_width(item)


def _png(canvas: np.ndarray) -> str:
    from PIL import Image
    image = Image.fromarray(canvas, "P")
    image.putpalette(PALETTE.tobytes())
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=3)  # 6 and up: twice the time
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


# ---- caption -------------------------------------------------------------------------------

def _where(path: tuple) -> str:
    """Where in the output, as the student's message says it (each part bounded)."""
    if not path:
        return ""

    def bounded(text: str) -> str:
        return text if len(text) <= 40 else text[:37] + "..."

    first, rest = path[0], path[1:]
    if isinstance(first, str) and not first.isidentifier():  # a driver's label
        return f"In {bounded(first)}" + "".join(f"[{bounded(repr(p))}]" for p in rest) + ": "
    return "In output" + "".join(f"[{bounded(repr(p))}]" for p in path) + ": "


def _caption(mismatch: Mismatch, shape: tuple, stacked: bool, leading, differing: int,
             slices: int, block: tuple[int, int]) -> str:
    count, total = mismatch.count, mismatch.total
    if mismatch.stage == "values":
        what = (f"{count} of {total} elements differ by more than the tolerance "
                f"({mismatch.tolerance}).")
        last = "how far each is outside the tolerance (grey: within)"
    elif mismatch.stage == "nan":
        what = f"{count} of {total} elements are NaN or inf in one answer only."
        last = "where NaN or inf is in one answer only (magenta)"
    else:
        what = f"{count} of {total} bools differ."
        last = "where they differ"
    order = "Top to bottom" if stacked else "Left to right"
    parts = [_where(mismatch.path) + what,
             f"{order}: your answer, the expected answer (one colour scale), and {last}."]
    if leading is not None:
        shown = "[" + ", ".join(map(str, leading)) + ", :, :]"
        parts.append(f"Shown: {shown} of the array of shape {tuple(shape)}, the first 2-D "
                     f"slice with a difference ({differing} of {slices} slices have one).")
    if block != (1, 1):
        parts.append(f"Each cell stands for up to {block[0]} x {block[1]} elements (their "
                     "mean; the worst difference among them).")
    caption = " ".join(parts)
    return caption if len(caption) <= CAPTION else caption[:CAPTION - 3] + "..."
