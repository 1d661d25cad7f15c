"""numpy ↔ QImage at the GUI edge (the only place pixels cross into Qt)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

from photofix.core.imageio import to_uint8


def qimage_from_rgb(rgb: np.ndarray, alpha: np.ndarray | None = None) -> QImage:
    """A QImage (owning its pixels) of float32 HxWx3 [0,1] RGB and optional HxW alpha."""
    h, w = rgb.shape[:2]
    if alpha is None:
        data = np.ascontiguousarray(to_uint8(rgb))
        image = QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    else:
        data = np.ascontiguousarray(np.dstack([to_uint8(rgb), to_uint8(alpha)]))
        image = QImage(data.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
    return image.copy()  # detach from the numpy buffer
