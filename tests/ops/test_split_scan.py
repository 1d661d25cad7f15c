"""split-scan: a generated flatbed page with three photographs turned -5, 0 and +4 degrees."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from photofix.core.errors import OperationError
from photofix.ops import REGISTRY, Layers, run_operation

# (centre x, centre y), tilt counter-clockwise, (width, height) of each print on the page
PRINTS = [((300, 300), -5.0, (330, 250)), ((1000, 320), 0.0, (400, 300)),
          ((700, 820), 4.0, (420, 320))]  # fmt: skip


def flatbed_page(photos: dict[str, np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """A 1500x1100 scan of a white lid with three prints laid on it, and the prints as laid."""
    rng = np.random.default_rng(7)
    page = np.float32(0.96) + rng.normal(0, 0.01, (1100, 1500, 3)).astype(np.float32)
    laid = []
    for photo, ((cx, cy), tilt, (w, h)) in zip(photos.values(), PRINTS, strict=True):
        p = cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA)
        laid.append(p)
        m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), tilt, 1.0)
        m[0, 2] += cx - (w - 1) / 2
        m[1, 2] += cy - (h - 1) / 2
        warped = cv2.warpAffine(p, m, (1500, 1100), flags=cv2.INTER_LINEAR)
        cover = cv2.warpAffine(np.ones((h, w), np.float32), m, (1500, 1100))[..., None]
        page = page * (1 - cover) + warped * cover
    return np.clip(page, 0, 1).astype(np.float32), laid


def test_split_scan_finds_each_print_upright(photos) -> None:
    page, laid = flatbed_page(photos)
    out = run_operation(REGISTRY.get("split-scan"), Layers(page), {})
    assert len(out.parts) == 3 and np.array_equal(out.image, page)
    for box, part, truth, ((cx, cy), tilt, (w, h)) in zip(
        out.boxes, out.parts, laid, PRINTS, strict=True
    ):
        assert box.angle == pytest.approx(tilt, abs=0.5)
        assert (box.cx, box.cy) == pytest.approx((cx, cy), abs=4)
        ph, pw = part.image.shape[:2]
        assert abs(pw - w) <= 4 and abs(ph - h) <= 4
        # the cut-out is the photograph itself, upright: compare with what was laid down
        same = cv2.resize(truth, (pw, ph), interpolation=cv2.INTER_AREA)
        assert np.abs(part.image - same)[4:-4, 4:-4].mean() < 0.03
        # no backdrop along any edge
        assert part.image[0].mean() < 0.9 or truth[0].mean() >= 0.9


def test_split_scan_says_when_there_is_nothing_to_split() -> None:
    blank = np.full((300, 400, 3), 0.95, np.float32)
    with pytest.raises(OperationError, match="no prints were found"):
        run_operation(REGISTRY.get("split-scan"), Layers(blank), {})
