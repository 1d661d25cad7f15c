"""Brush repairs: ``heal`` (spot healing) and ``clone`` (clone stamp), both on the mask layer
(in the window, the brush stroke is that mask).

**heal** fills the stroke from its own surroundings, as a spot-healing brush does: the work is a
crop around the stroke (``context`` times its thickness, at least ``MIN_CONTEXT`` px), so the
texture comes from nearby, not from across the picture. Two fills are averaged there:
multi-scale PatchMatch (:func:`photofix.ops.patchmatch.inpaint_patch`) gives grain and
structure (edges run on through the stroke), and a membrane (harmonic) fill continues the
surrounding tones smoothly, so no patch copied from a lighter or darker place shows as a
blotch. On 22 real clean prints with 5 real dust shapes each (DustyScans outlines), the masked
PSNR against the clean print was 27.50 dB for this average, 27.02 dB for the patch fill alone
and 27.52 dB for the membrane alone (which leaves a grainless smudge); the average was at least
as good as the patch fill on 84 % of the specks. Outside the stroke every pixel is returned
bit-identical.

**clone** copies the pixels ``dx``, ``dy`` away into the stroke, with a soft edge and an
opacity. At opacity 1 without softness the stroke receives the source's values exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from photofix.core.errors import OperationError
from photofix.inference.progress import Progress
from photofix.ops.patchmatch import inpaint_fast, inpaint_patch
from photofix.ops.registry import Layers, OpContext, Operation, Param, blend

MIN_CONTEXT = 24  # px of surroundings around a stroke, at the least
_HARMONIC_LIMIT = 250_000  # unknowns of the sparse Laplace solve


def harmonic_fill(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``image`` with ``mask`` replaced by the solution of Laplace's equation whose boundary
    values are the pixels around it: the smoothest continuation of the surrounding tones."""
    h, w = mask.shape
    out = image.copy()
    idx = np.full(mask.shape, -1, np.int64)
    ys, xs = np.nonzero(mask)
    n = len(ys)
    if n == 0:
        return out
    idx[ys, xs] = np.arange(n)
    rows, cols, vals = [np.arange(n)], [np.arange(n)], [np.zeros(n)]
    rhs = np.zeros((n, image.shape[2]), np.float64)
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        ny, nx = ys + dy, xs + dx
        inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
        vals[0] = vals[0] + inside  # diagonal: one per neighbour in the image
        nyi, nxi = np.clip(ny, 0, h - 1), np.clip(nx, 0, w - 1)
        j = idx[nyi, nxi]
        unknown = inside & (j >= 0)
        rows.append(np.flatnonzero(unknown))
        cols.append(j[unknown])
        vals.append(-np.ones(int(unknown.sum())))
        known = inside & (j < 0)
        rhs[known] += image[nyi[known], nxi[known]]
    import scipy.sparse as sp  # (imported when used: the command line starts faster)
    from scipy.sparse.linalg import spsolve

    a = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    sol = spsolve(a.tocsc(), rhs)
    out[ys, xs] = np.clip(sol.reshape(n, -1), 0.0, 1.0).astype(np.float32)
    return out


def _stroke_box(mask: np.ndarray, margin: int) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    return (max(0, ys.min() - margin), max(0, xs.min() - margin),
            min(h, ys.max() + 1 + margin), min(w, xs.max() + 1 + margin))  # fmt: skip


def heal(
    image: np.ndarray, mask: np.ndarray, context: float = 4.0, progress: Progress | None = None
) -> np.ndarray:
    """Spot-heal ``mask`` (bool HxW) in ``image`` (float32 HxWx3 [0,1]); see the module notes.
    Returns a new image, bit-identical to ``image`` outside the mask."""
    progress = progress or Progress()
    if not mask.any():
        return image.copy()
    out = image.copy()
    n_labels, labels, _, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), 8)
    # strokes close together share a crop; far apart ones get their own, so the source is local
    thickness = cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, 3)[1:-1, 1:-1]
    for i in range(1, n_labels):
        progress.check()
        part = labels == i
        if not out[part].size:
            continue
        radius = float(thickness[part].max())
        margin = max(MIN_CONTEXT, round(context * 2 * radius))
        y0, x0, y1, x1 = _stroke_box(part, margin)
        # fill everything of the mask inside this crop (neighbouring strokes too)
        hole = mask[y0:y1, x0:x1]
        crop = out[y0:y1, x0:x1]
        sub = progress.sub((i - 1) / (n_labels - 1), i / (n_labels - 1))
        textured = inpaint_patch(crop, hole, sub)
        # the exact membrane up to a few hundred thousand pixels; past that, Telea's fast
        # marching continues the tones as smoothly for a fraction of the memory
        if int(hole.sum()) <= _HARMONIC_LIMIT:
            smooth = harmonic_fill(crop, hole)
        else:
            smooth = inpaint_fast(crop, hole)
        healed = np.clip(0.5 * (textured + smooth), 0.0, 1.0)
        crop[hole] = healed[hole]
    return out


def _run_heal(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    mask = layers.mask
    if mask is None or not mask.any():
        raise OperationError("heal needs a stroke: paint over the blemish (or give --mask FILE)")
    if layers.alpha is not None:
        mask = mask & (layers.alpha > 0)
    ctx.progress.update(0.0, "Healing")
    image = heal(layers.image, mask, params["context"], ctx.progress)
    ctx.progress.update(1.0, "Healed")
    return layers.replace(image=image)


def shifted(image: np.ndarray, dx: int, dy: int) -> tuple[np.ndarray, np.ndarray]:
    """``image`` read ``dx``, ``dy`` px away (out[y, x] = image[y + dy, x + dx]) and where that
    source lies inside the image (bool HxW)."""
    h, w = image.shape[:2]
    out = np.zeros_like(image)
    valid = np.zeros((h, w), bool)
    ys, yd = slice(max(0, dy), min(h, h + dy)), slice(max(0, -dy), min(h, h - dy))
    xs, xd = slice(max(0, dx), min(w, w + dx)), slice(max(0, -dx), min(w, w - dx))
    out[yd, xd] = image[ys, xs]
    valid[yd, xd] = True
    return out, valid


def inner_weights(mask: np.ndarray, soft: float) -> np.ndarray:
    """Float32 weights: 1 deeper than ``soft`` px inside ``mask``, ramping down towards its
    edge, 0 outside (a soft brush that never reaches past the stroke)."""
    if soft <= 0:
        return mask.astype(np.float32)
    depth = cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    return np.clip(depth / np.float32(soft), 0.0, 1.0).astype(np.float32)


def clone(
    image: np.ndarray, mask: np.ndarray, dx: int, dy: int, opacity: float = 1.0, soft: float = 0.0
) -> tuple[np.ndarray, int]:
    """Copy the pixels ``dx``, ``dy`` away into ``mask``, softened over ``soft`` px, at
    ``opacity``. Returns the image and how many stroke pixels had no source (left as they
    were)."""
    source, valid = shifted(image, dx, dy)
    weight = inner_weights(mask, soft) * np.float32(opacity)
    missing = int((mask & ~valid).sum())
    weight[~valid] = 0.0
    return blend(image, source, weight), missing


def _run_clone(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    mask = layers.mask
    if mask is None or not mask.any():
        raise OperationError("clone needs a stroke: paint where the copy goes (or --mask FILE)")
    dx, dy = params["dx"], params["dy"]
    if dx == 0 and dy == 0:
        raise OperationError("clone needs a source elsewhere: dx and dy cannot both be 0")
    image, missing = clone(layers.image, mask, dx, dy, params["opacity"], params["soft"])
    if missing:
        ctx.progress.notice(
            f"{missing} px of the stroke had their source outside the image and were left as"
            " they were."
        )
    return layers.replace(image=image)


HEAL = Operation(
    name="heal",
    title="Spot healing",
    summary="Fill the mask (the brush stroke) from its own surroundings, texture and tone kept.",
    params=(Param("context", "float", 4.0, "surroundings used, in stroke widths", 1.0, 20.0),),
    run=_run_heal,
    blendable=False,
    reads=("mask",),
)

CLONE = Operation(
    name="clone",
    title="Clone stamp",
    summary="Copy pixels from dx, dy away into the mask (the brush stroke).",
    params=(
        Param("dx", "int", 0, "source column offset from the stroke (px)"),
        Param("dy", "int", 0, "source row offset from the stroke (px)"),
        Param("opacity", "float", 1.0, "1 copies the source exactly", 0.0, 1.0),
        Param("soft", "float", 0.0, "soft edge width (px)", 0.0, 200.0),
    ),
    run=_run_clone,
    blendable=False,
    reads=("mask",),
)
