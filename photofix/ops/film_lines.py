"""Vertical film scratches (``detect-defects:kinds=film-lines``, opt-in): the long, thin,
near-vertical bright or dark lines a projector or printer gate scores into motion-picture film.

DefectNet, trained on scratches across prints, finds almost none of them: they are faint (a few
grey levels over the grain), 1-6 px wide, and keep to one column of the frame, often its whole
height. That regularity is what this classical detector uses (all sizes are for a 1080-row
frame and scale with the picture's height):

* the luminance is averaged over blocks of ``BLOCK`` rows (a vertical line loses nothing) and
  then along each column over a long (``LONG`` rows) and a short (``SHORT``) window, so the
  grain averages out while a line keeps its contrast;
* a *two-sided* ridge test on those column means: a bright line must be brighter than the
  columns ``SIDE`` px to its left *and* to its right (a dark one darker than both); its
  strength is the smaller of the two differences less ``SYMMETRY`` times the difference
  between the sides. A scene edge is a step, one side unlike the other, so it scores nothing,
  even with a sharpening halo along it (the halo is brighter than both sides, but the sides
  differ by more than it stands out); a scratch laid over the picture has both sides alike;
* the strength is counted in units of the local noise of the column means (a robust MAD over
  ``NOISE_WIDTH`` px of the row), so grain, halftone or a busy picture raise the bar;
* hysteresis: seeds (long-window strength above ``SEED`` at a column maximum) grown into
  pixels whose short-window strength is above ``GROW``; lines must run ``MIN_LENGTH`` rows and
  stay near-vertical (their box no wider than ``DRIFT`` of their height plus a few px), and
  not touch the picture's left or right edge (where there is no second side: scan borders);
* the centre line found is widened by ``HALF_WIDTH`` px either side.

Each line's confidence is the product of how long it is (full from ``FULL_LENGTH`` of the
frame's height), how strong (full from ``FULL_STRENGTH`` noise units on average), how alike its
two sides are further out (full below ``FULL_STEP``: the median difference between the
columns ``FAR_SIDE`` px left and right, over its contrast; the rim of a frame or the edge of
a door is a ridge close up and a step further out) and how steadily it keeps its contrast
along its length (the share of its rows where the short window still sees it). Only lines
running nearly the whole height, strong and symmetric, reach
:data:`photofix.ops.defects.CONFIDENT` (0.9); the rest are proposals for review: a door
frame, a book spine or a pole is a thin symmetric ridge too, and only its length (it ends
where the object ends) tells it from a scratch. Pure numpy / OpenCV / SciPy.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

BLOCK = 4  # rows averaged into one (at 1080 rows)
LONG = 100  # rows: the column window seeds are measured on
SHORT = 24  # rows: the column window lines are grown on
SIDE = 3  # px from the line to where its two sides are measured
SYMMETRY = 0.5  # the difference between the two sides, times this, is taken off the strength
SIDE_WIDTH = 3  # px: the sides are the mean of this many columns
NOISE_WIDTH = 61  # px of a row over which the noise of the column means is measured
MEDIAN_WIDTH = 21  # px: the horizontal median whose residual the noise is measured on
SEED = 3.5  # noise units a seed stands out by at sensitivity 0.5
GROW = 1.5  # noise units a line is grown through
MIN_LENGTH = 60  # rows a line must run
DRIFT = 0.04  # a line's box is at most this share of its height (plus 3 px) wide
HALF_WIDTH = 2  # px the centre line is widened by on each side (at 1080 rows, at least 1)
NOISE_FLOOR = 1e-4  # luminance: a flat black border does not divide by zero

FAR_SIDE = 8  # px from the line to where its sides are measured again, for the step test
FULL_LENGTH = 0.9  # share of the frame's height from which length counts fully
FULL_STRENGTH = 8.0  # mean noise units from which strength counts fully
FULL_STEP = 0.3  # side difference over contrast below which the two sides count as alike
FULL_STEADY = 0.8  # share of a line's rows the short window must see it in


def _sides(mean: np.ndarray, side: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The means ``width`` px wide of column means ``mean`` (float32 rows × W) ``side`` px to
    the left and to the right of each column (the edge columns repeated past the border)."""
    m = cv2.blur(mean, (width, 1), borderType=cv2.BORDER_REFLECT)
    pad = np.pad(m, ((0, 0), (side, side)), mode="edge")
    return pad[:, : -2 * side], pad[:, 2 * side :]


def _two_sided(mean: np.ndarray, side: int, width: int) -> np.ndarray:
    """Signed ridge strength of column means ``mean`` (float32 rows × W): for a bright line the
    smaller of its differences to the means ``side`` px left and right (``width`` px wide), for
    a dark one minus the smaller darkness; 0 where the centre lies between its sides."""
    left, right = _sides(mean, side, width)
    step = SYMMETRY * np.abs(left - right)
    bright = np.minimum(mean - left, mean - right) - step
    dark = np.minimum(left - mean, right - mean) - step
    return np.where(bright > 0, bright, np.where(dark > 0, -dark, 0.0)).astype(np.float32)


def _column_peak(a: np.ndarray) -> np.ndarray:
    """Pixels (bool) of ``a`` that are the largest within 2 px along their row."""
    peak = np.ones(a.shape, bool)
    for shift in (1, 2):
        peak &= a >= np.roll(a, shift, 1)
        peak &= a >= np.roll(a, -shift, 1)
    return peak


def film_lines(luma: np.ndarray, sensitivity: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """The film scratches of ``luma`` (float32 HxW in [0, 1]): a bool HxW mask and a float32
    HxW map holding each line's confidence in [0, 1] on its pixels (0 elsewhere).

    ``sensitivity`` in [0, 1]: higher finds fainter lines; 0.5 is the measured balance."""
    h, w = luma.shape
    s = h / 1080.0
    b = max(1, round(BLOCK * s))
    hb = max(1, h // b)
    blocks = luma[: hb * b].reshape(hb, b, w).mean(1, dtype=np.float32)  # (b <= h always)
    side = max(SIDE, round(SIDE * s))  # never closer than at 1080 rows
    width = max(SIDE_WIDTH, round(SIDE_WIDTH * s)) | 1
    n_long = max(3, round(LONG * s / b))
    n_short = max(1, round(SHORT * s / b))
    noise_w = max(5, round(NOISE_WIDTH * s)) | 1
    med_w = max(5, round(MEDIAN_WIDTH * s)) | 1
    residual = blocks - ndimage.median_filter(blocks, size=(1, med_w), mode="reflect")
    factor = 2.0 ** ((0.5 - float(sensitivity)) * 2.0)
    seed_t, grow_t = SEED * factor, GROW * factor

    z, means = {}, {}
    for name, n in (("long", n_long), ("short", n_short)):
        means[name] = cv2.blur(blocks, (1, n), borderType=cv2.BORDER_REFLECT)
        spread = cv2.blur(residual, (1, n), borderType=cv2.BORDER_REFLECT)
        noise = 1.4826 * ndimage.median_filter(np.abs(spread), size=(1, noise_w))
        z[name] = _two_sided(means[name], side, width) / (noise + NOISE_FLOOR)

    mask_b = np.zeros((hb, w), bool)
    conf_b = np.zeros((hb, w), np.float32)
    long_mean = means["long"]
    left, right = _sides(long_mean, side, width)
    far = max(side + 2, round(FAR_SIDE * s))
    far_left, far_right = _sides(long_mean, far, width)
    for sign in (1.0, -1.0):
        zl, zs = sign * z["long"], sign * z["short"]
        peak = _column_peak(zl)
        seed = peak & (zl > seed_t)
        grow = seed | ((zs > grow_t) & (zl > grow_t) & (peak | _column_peak(zs)))
        n, comp, stats, _ = cv2.connectedComponentsWithStats(grow.view(np.uint8), connectivity=8)
        keep = np.zeros(n, bool)
        keep[np.unique(comp[seed])] = True
        keep[0] = False
        rows = stats[:, cv2.CC_STAT_HEIGHT] * b
        keep &= rows >= MIN_LENGTH * s
        keep &= stats[:, cv2.CC_STAT_WIDTH] <= 3 + DRIFT * stats[:, cv2.CC_STAT_HEIGHT] * b
        # a line at the picture's left or right edge has no second side to compare with
        keep &= stats[:, cv2.CC_STAT_LEFT] >= far + width
        keep &= stats[:, cv2.CC_STAT_LEFT] + stats[:, cv2.CC_STAT_WIDTH] <= w - far - width
        for i in np.nonzero(keep)[0]:
            x, y0, bw, bh = (int(v) for v in stats[i, :4])
            sub = comp[y0 : y0 + bh, x : x + bw] == i
            r, c = np.nonzero(sub)
            r, c = r + y0, c + x
            strength = float(np.mean(zl[r, c]))
            contrast = sign * (long_mean[r, c] - (left[r, c] + right[r, c]) / 2)
            step = float(np.median(np.abs(far_left[r, c] - far_right[r, c]))) / max(
                float(np.median(contrast)), NOISE_FLOOR
            )
            steady = len(np.unique(r[zs[r, c] > grow_t])) / bh
            score = (
                min(1.0, bh * b / (FULL_LENGTH * h))
                * min(1.0, strength / FULL_STRENGTH)
                * min(1.0, FULL_STEP / max(step, 1e-6))
                * min(1.0, steady / FULL_STEADY)
            )
            mask_b[r, c] = True
            conf_b[r, c] = np.maximum(conf_b[r, c], score)

    rows_of = np.minimum(np.arange(h) // b, hb - 1)  # rows past the last block: its own
    mask, conf = mask_b[rows_of], conf_b[rows_of]
    half = max(1, round(HALF_WIDTH * s))
    if half:
        k = np.ones((1, 2 * half + 1), np.uint8)
        mask = cv2.dilate(mask.view(np.uint8), k).astype(bool)
        conf = cv2.dilate(conf, k)
    return mask, conf
