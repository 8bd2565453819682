"""Cells: the rectangles ruled segments enclose, however the form drew them (rectangles, lines of
a table grid, a frame split by dividers). The segments are drawn into a 4 px/mm mask, small gaps
closed; every enclosed region of paper that is (nearly) rectangular is a cell, its edges snapped
back to the segments' millimetres."""
from __future__ import annotations

from bisect import bisect_left

from bots.blankform.sheet import Rect, Seg, Sheet

PX = 4.0  # pixels per mm of the mask
MIN_SIDE = 2.0  # mm: smaller regions are slivers between double lines
RECTANGULAR = 0.9  # share of its bounding box a region must fill to be a cell
SNAP = 0.8  # mm: a cell edge this close to a segment's coordinate takes it


def cells(sheet: Sheet) -> list[Rect]:
    """Every enclosed rectangle of the sheet's ruling, top to bottom, left to right."""
    import cv2
    import numpy as np

    w, h = int(sheet.width * PX) + 2, int(sheet.height * PX) + 2
    mask = np.zeros((h, w), np.uint8)
    for s in sheet.segs:
        if s.length < MIN_SIDE:
            continue
        p0 = (round(s.x0 * PX), round(s.y0 * PX))
        p1 = (round(s.x1 * PX), round(s.y1 * PX))
        cv2.line(mask, p0, p1, 255, 1)
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))  # gaps of half a millimetre at joints close
    paper = (mask == 0).astype(np.uint8)
    # outer boundaries of the paper regions: a cell with character boxes inside is still a rectangle
    contours, hierarchy = cv2.findContours(paper, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    xs = sorted({round(s.x0, 2) for s in sheet.segs if not s.horizontal})
    ys = sorted({round(s.y0, 2) for s in sheet.segs if s.horizontal})
    out: list[Rect] = []
    for contour, (_, _, _, parent) in zip(contours, hierarchy[0] if hierarchy is not None else []):
        if parent != -1:
            continue  # a hole: the ink around a region inside
        x, y, cw, ch = cv2.boundingRect(contour)
        if x <= 0 or y <= 0 or x + cw >= w or y + ch >= h:
            continue  # the paper around the form
        area = cv2.contourArea(contour) + cv2.arcLength(contour, True) / 2  # the boundary pixels count too
        if cw < MIN_SIDE * PX or ch < MIN_SIDE * PX or area < RECTANGULAR * cw * ch:
            continue
        # the region lies inside the dilated lines: its edges are ~1 px inside the segments
        r = Rect(_snap((x - 1) / PX, xs), _snap((y - 1) / PX, ys), _snap((x + cw + 1) / PX, xs),
                 _snap((y + ch + 1) / PX, ys))
        out.append(r)
    out.sort(key=lambda r: (round(r.y0), r.x0))
    return out


def _snap(v: float, coords: list[float]) -> float:
    i = bisect_left(coords, v)
    best = min((coords[j] for j in (i - 1, i) if 0 <= j < len(coords)), key=lambda c: abs(c - v), default=v)
    return best if abs(best - v) <= SNAP else round(v, 2)


def underlines(sheet: Sheet, found: list[Rect], tol: float = 0.8) -> list[Seg]:
    """Horizontal segments that are not the top or bottom of any cell: underlines to write on."""
    free: list[Seg] = []
    for s in sheet.segs:
        if not s.horizontal:
            continue
        covered = 0.0
        for c in found:
            if (abs(c.y0 - s.y0) <= tol or abs(c.y1 - s.y0) <= tol) and c.x1 > s.x0 and c.x0 < s.x1:
                covered += min(c.x1, s.x1) - max(c.x0, s.x0)
        if covered < 0.5 * s.length:
            free.append(s)
    return _merge_h(free)


def _merge_h(segs: list[Seg], tol: float = 0.5) -> list[Seg]:
    """Collinear horizontal pieces that touch or overlap → one segment."""
    out: list[Seg] = []
    for s in sorted(segs, key=lambda s: (round(s.y0 / tol), s.x0)):
        if out and abs(out[-1].y0 - s.y0) <= tol and s.x0 <= out[-1].x1 + tol:
            last = out[-1]
            out[-1] = Seg(last.x0, last.y0, max(last.x1, s.x1), last.y0)
        else:
            out.append(s)
    return out
