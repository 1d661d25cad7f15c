"""Live previews of operations that fit the whole picture (even-light's light field,
white-balance's picked point, auto levels, fade): the previewed part shows what Apply gives."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QImage

from tests.ui.conftest import wait_idle, write_test_image


def test_even_light_preview_of_a_zoomed_corner_is_what_apply_gives(window, qtbot, tmp_path):
    """even-light fits the light to the whole picture: the live preview of a zoomed-in corner
    shows the pixels Apply will give there, not a fit to the corner alone."""
    rng = np.random.default_rng(5)
    h, w = 360, 480
    picture = np.full((h, w, 3), 0.7, np.float32)
    for _ in range(25):
        x, y = (int(v) for v in rng.integers(0, (w, h)))
        cv2.circle(picture, (x, y), int(rng.integers(6, 30)), (0.3, 0.35, 0.4), -1)
    yy, xx = np.mgrid[:h, :w]
    r2 = ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / ((w / 2) ** 2 + (h / 2) ** 2)
    lit = picture * (1 - 0.45 * r2)[..., None].astype(np.float32)
    assert window.open_file(write_test_image(tmp_path / "lit.png", lit))
    window.operations.live_preview.setChecked(False)
    wait_idle(window)
    c = window.controller
    window.view.set_zoom(4.0)
    window.view.centerOn(60, 50)  # the top-left corner, where the light is lowest
    window.operations.select("even-light")
    with qtbot.waitSignal(c.preview_changed, timeout=20_000):
        window.operations.live_preview.setChecked(True)
    wait_idle(window)
    shown, (x0, y0) = _preview_rgb(window)
    assert x0 < 40 and y0 < 40 and shown.shape[1] < w / 2  # a corner, not the whole picture
    _assert_apply_gives(window, qtbot, shown, x0, y0)


def _preview_rgb(window) -> tuple[np.ndarray, tuple[int, int]]:
    """The live preview's pixels (int HxWx3, 0-255) and where they sit in the image."""
    image, rect = window.view.image_item._preview
    q = image.convertToFormat(QImage.Format.Format_RGB888)
    shown = np.frombuffer(q.constBits(), np.uint8).reshape(q.height(), q.bytesPerLine())
    shown = shown[:, : 3 * q.width()].reshape(q.height(), q.width(), 3).astype(int)
    return shown, (int(rect.x()), int(rect.y()))


def _assert_apply_gives(window, qtbot, shown: np.ndarray, x0: int, y0: int) -> None:
    c = window.controller
    window.operations.live_preview.setChecked(False)
    with qtbot.waitSignal(window.service.finished, timeout=20_000):
        c.apply_operation(window.operations.request())
    wait_idle(window)
    h, w = shown.shape[:2]
    applied = np.rint(c.document.image[y0 : y0 + h, x0 : x0 + w] * 255)
    assert np.abs(shown - applied).max() <= 1


def test_white_balance_preview_uses_a_neutral_point_outside_the_visible_area(window, qtbot):
    """white-balance's x, y are the whole picture's pixel: zoomed in elsewhere, the preview
    still balances on that point and shows what Apply gives."""
    from photofix.resources import sample_scan

    assert window.open_file(sample_scan())
    window.operations.live_preview.setChecked(False)
    wait_idle(window)
    window.view.set_zoom(4.0)
    window.view.centerOn(420, 420)
    window.operations.select("white-balance")
    form = window.operations.current_form()
    form.fields["x"].set_value(60)
    form.fields["y"].set_value(200)
    with qtbot.waitSignal(window.controller.preview_changed, timeout=20_000):
        window.operations.live_preview.setChecked(True)
    wait_idle(window)
    shown, (x0, y0) = _preview_rgb(window)
    assert x0 > 100 and y0 > 100  # the neutral point is not in the previewed part
    _assert_apply_gives(window, qtbot, shown, x0, y0)


def test_colorize_preview_takes_hints_outside_the_visible_area(window, qtbot) -> None:
    """A colour hint painted away from the zoomed-in part still colours it in the preview,
    as Apply will."""
    from PySide6.QtGui import QColor

    from photofix.ops.colorize import LAST_SOLUTION
    from photofix.resources import sample_scan
    from tests.ui.test_workspace import drag, view_point

    LAST_SOLUTION.clear()
    assert window.open_file(sample_scan())
    window.operations.live_preview.setChecked(False)
    wait_idle(window)
    vp = window.view.viewport()
    window.actions["tool_hint"].setChecked(True)
    window._set_hint_colour(QColor("#e07020"))  # orange on the suit (bottom middle)
    drag(vp, [view_point(window, 230, 420), view_point(window, 260, 430)])
    window.actions["tool_hint"].setChecked(False)
    window.view.set_zoom(4.0)
    window.view.centerOn(380, 300)  # the suit's right, away from the hint
    window.operations.select("colorize")
    window.operations.current_form().fields["mode"].set_value("hints")
    with qtbot.waitSignal(window.controller.preview_changed, timeout=30_000):
        window.operations.live_preview.setChecked(True)
    wait_idle(window)
    shown, (x0, y0) = _preview_rgb(window)
    assert x0 > 265 and y0 < 415  # the hint is not in the previewed part
    _assert_apply_gives(window, qtbot, shown, x0, y0)
