"""Render PhotoFix's icons from their SVG sources (drawn by hand in this folder).

Writes, beside this script, for ``photofix`` (the application) and ``photofix-file`` (the
documents "Open with PhotoFix" shows):

- ``<name>-<size>.png`` for 16, 24, 32, 48, 64, 128, 256 and 512 px (window icon, Linux
  desktop icon, AppImage);
- ``<name>.ico`` (Windows: executable, installer, file association), 16-256 px;
- ``<name>.icns`` (macOS ``.app`` and document types), 16-1024 px.

Qt renders the SVG (QtSvg, offscreen); Pillow writes ICO and ICNS. Run after editing an SVG:

    QT_QPA_PLATFORM=offscreen .venv/bin/python resources/icons/make_icons.py
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
NAMES = ("photofix", "photofix-file")
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZE = 1024


def render(svg: Path, size: int) -> Image.Image:
    """The SVG drawn at ``size``×``size`` px, antialiased, as RGBA."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: {svg.name} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return Image.open(io.BytesIO(bytes(data))).convert("RGBA")


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    for name in NAMES:
        svg = HERE / f"{name}.svg"
        for size in PNG_SIZES:
            render(svg, size).save(HERE / f"{name}-{size}.png", optimize=True)
        # each ICO/ICNS size is rendered from the SVG, not scaled down from one bitmap
        ico = [render(svg, s) for s in ICO_SIZES]
        ico[-1].save(HERE / f"{name}.ico", sizes=[(s, s) for s in ICO_SIZES], append_images=ico)
        render(svg, ICNS_SIZE).save(HERE / f"{name}.icns")
        print(f"make_icons: {name}: png {list(PNG_SIZES)}, ico, icns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
