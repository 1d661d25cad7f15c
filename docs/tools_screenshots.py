"""Regenerate the screenshots of the restoration tools in docs/images/tools-*.png.

Drives the real window offscreen as a user would: spot-heals the dust on the sample scan
(strokes on the specks the sample was made with) and compares before/after, copies with the
clone stamp, draws a straightening line and a crop rectangle, and opens the split-scan
review, the Models dialog, the shortcut sheet and the upscale form.
Run: QT_QPA_PLATFORM=offscreen .venv/bin/python docs/tools_screenshots.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QSettings
from PySide6.QtWidgets import QApplication
from skimage import data

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "resources" / "samples"))

from make_sample import degrade_with_truth  # noqa: E402

from photofix.core import imageio  # noqa: E402
from photofix.resources import sample_scan  # noqa: E402
from photofix.ui.app import make_application  # noqa: E402
from photofix.ui.main_window import MainWindow  # noqa: E402
from photofix.ui.session import SessionStore  # noqa: E402
from tests.ops.test_split_scan import flatbed_page  # noqa: E402

OUT = ROOT / "docs" / "images"
REGION = (150, 250, 330, 420)  # y0, x0, y1, x1 of the sample scan shown healed


def wait(window: MainWindow, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while (window.service.busy or window.controller._jobs) and time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)
    QApplication.processEvents()


def specks() -> list[tuple[float, float, int]]:
    """(x, y, brush size) of the sample's dust specks."""
    _, damage = degrade_with_truth(data.astronaut())
    n, _, stats, centres = cv2.connectedComponentsWithStats(damage.astype(np.uint8))
    out = []
    for i in range(1, n):
        w, h, area = stats[i][2:]
        cx, cy = centres[i]
        if area <= 40 and max(w, h) <= 9:
            out.append((float(cx), float(cy), int(max(w, h)) + 4))
    return out


def main() -> None:
    app = make_application()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(store=store, sessions=SessionStore(Path(tmp)), probe_device=False)
        window.resize(1280, 800)
        window.show()
        app.processEvents()
        window.open_file(sample_scan())
        window.operations.live_preview.setChecked(False)
        wait(window)
        # spot healing: one stroke per speck
        window.actions["tool_heal"].setChecked(True)
        for x, y, size in specks():
            window._on_brush_size_changed(size)
            window.repair.start(QPointF(x + 0.5, y + 0.5))
            window.repair.finish()
        window._on_brush_size_changed(12)
        y0, x0, y1, x1 = REGION
        window.view.set_zoom(3.0)
        window.view.centerOn((x0 + x1) / 2, (y0 + y1) / 2)
        window.actions["compare_vertical"].setChecked(True)
        window.view.set_split((x0 + x1) / 2 / 512)
        window.device_label.setText("Device: CPU")
        app.processEvents()
        window.grab().save(str(OUT / "tools-heal.png"))
        print("healed", len(window.controller.document.history.steps), "specks")

        # clone stamp: a piece of the flag copied onto the wall (right), the ring showing the source
        window.actions["compare_off"].setChecked(True)
        window.actions["tool_clone"].setChecked(True)
        window._on_brush_size_changed(26)
        window.repair.set_source(QPointF(45, 45))
        window.repair.start(QPointF(405, 40))
        for step in range(0, 45, 3):
            window.repair.move(QPointF(405 + step * 0.3, 40 + step))
        window.repair.finish()
        window.view.set_zoom(2.0)
        window.view.centerOn(235, 110)
        window.repair._show_source(QPointF(418, 84))
        app.processEvents()
        window.view.viewport().grab().save(str(OUT / "tools-clone.png"))

        # straighten: a line being drawn along a tilted edge
        window.actions["tool_straighten"].setChecked(True)
        window.view.fit()
        window.pick.start(QPointF(60, 420))
        window.pick.move(QPointF(460, 395))
        app.processEvents()
        window.view.viewport().grab().save(str(OUT / "tools-straighten.png"))
        window.pick.line.setVisible(False)
        window.pick._start = None

        # crop: the rectangle being dragged, the Crop form beside it
        window.actions["tool_crop"].setChecked(True)
        window.operations.select("crop")
        window.pick.start(QPointF(110, 40))
        window.pick.move(QPointF(430, 470))
        app.processEvents()
        window.grab().save(str(OUT / "tools-crop.png"))
        window.pick.rect.setVisible(False)
        window.pick._start = None

        # the upscale form says what it will make
        window.operations.select("upscale")
        app.processEvents()
        window.operations.grab().save(str(OUT / "tools-upscale-form.png"))

        # dialogs
        help_sheet = window.show_help()
        app.processEvents()
        help_sheet.grab().save(str(OUT / "tools-shortcuts.png"))
        help_sheet.close()
        models = window.show_models()
        models.select("zhang-siggraph17")
        app.processEvents()
        models.grab().save(str(OUT / "tools-models.png"))
        models.close()
        photos = {
            n: getattr(data, n)().astype(np.float32) / 255
            for n in ("astronaut", "coffee", "chelsea")
        }
        page, _ = flatbed_page(photos)
        src = imageio.save_image(Path(tmp) / "flatbed.png", page)
        window.controller.document.saved_index = window.controller.document.history.index
        window.open_file(src)
        dialog = window.show_split_scan()
        assert dialog is not None
        app.processEvents()
        dialog.grab().save(str(OUT / "tools-split-scan.png"))
        dialog.close()
        window._closing_confirmed = True
        window.close()
        window.service.stop()
    print("wrote", *sorted(p.name for p in OUT.glob("tools-*.png")))


if __name__ == "__main__":
    main()
