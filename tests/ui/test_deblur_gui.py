"""The deblur form's kernel picture and estimate, driven through the real window offscreen."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from photofix.ui.deblur_form import THUMBNAIL
from tests.ui.conftest import wait_idle, write_test_image


def _soft_scan(path):
    """A 256² picture of shapes and texture, Gaussian-blurred by σ = 2, with a little noise."""
    rng = np.random.default_rng(3)
    img = np.full((256, 256, 3), 0.5, np.float32)
    for _ in range(40):
        x, y = (int(v) for v in rng.integers(0, 256, 2))
        colour = tuple(float(c) for c in rng.uniform(0.05, 0.95, 3))
        if rng.random() < 0.5:
            cv2.circle(img, (x, y), int(rng.integers(4, 30)), colour, -1)
        else:
            w, h = (int(v) for v in rng.integers(4, 50, 2))
            cv2.rectangle(img, (x, y), (x + w, y + h), colour, -1)
    img += rng.normal(0, 0.04, img.shape).astype(np.float32)
    img = cv2.GaussianBlur(img, (0, 0), 2.0) + rng.normal(0, 1 / 255, img.shape)
    return write_test_image(path, np.clip(img, 0, 1).astype(np.float32))


def _gray(qimage: QImage) -> np.ndarray:
    q = qimage.convertToFormat(QImage.Format.Format_Grayscale8)
    arr = np.frombuffer(q.constBits(), np.uint8).reshape(q.height(), q.bytesPerLine())
    return arr[:, : q.width()].copy()


def _preview_pixels(window) -> np.ndarray:
    vp = window.view.viewport()
    return _gray(vp.grab().toImage()).astype(int)


def test_estimate_shows_the_kernel_and_fills_the_fields(window, qtbot, tmp_path) -> None:
    assert window.open_file(_soft_scan(tmp_path / "soft.png"))
    window.operations.live_preview.setChecked(False)
    wait_idle(window)
    window.operations.select("deblur")
    form = window.operations.current_form()
    box = form.kernel_box
    assert box is not None and box.isVisible()
    assert form.values()["psf"] == "auto"
    assert box.picture.pixmap().isNull()  # auto: nothing known before the estimate
    qtbot.mouseClick(box.button, Qt.MouseButton.LeftButton)
    wait_idle(window)
    QApplication.processEvents()
    values = form.values()
    assert values["psf"] == "gaussian", values
    assert 1.2 <= values["sigma"] <= 2.5, values  # the blur was σ 2 (undershot on purpose)
    pixmap = box.picture.pixmap()
    assert not pixmap.isNull()
    assert THUMBNAIL // 2 <= pixmap.width() <= THUMBNAIL
    pic = _gray(pixmap.toImage())
    # a Gaussian: bright in the middle, dark in the corners, symmetric
    h, w = pic.shape
    assert pic[h // 2, w // 2] == 255 and pic[0, 0] < 20
    assert np.abs(pic.astype(int) - pic[::-1, ::-1]).max() <= 1
    assert "estimated" in box.text.text() and "gaussian" in box.text.toolTip()

    # editing the field changes the kernel picture and the live preview
    with qtbot.waitSignal(window.controller.preview_changed, timeout=20_000):
        window.operations.live_preview.setChecked(True)
    wait_idle(window)
    QApplication.processEvents()
    before = _preview_pixels(window)
    small = _gray(box.picture.pixmap().toImage())
    form.fields["sigma"].set_value(0.6)
    QApplication.processEvents()
    assert _gray(box.picture.pixmap().toImage()).shape != small.shape  # a smaller kernel
    with qtbot.waitSignal(window.controller.preview_changed, timeout=20_000):
        pass
    wait_idle(window)
    QApplication.processEvents()
    after = _preview_pixels(window)
    assert np.abs(after - before).mean() > 0.5, "the preview did not follow the new sigma"
    doc = window.controller.document
    assert np.array_equal(doc.image, doc.original) and not doc.history.steps


def test_a_named_kernel_is_shown_without_estimating(window) -> None:
    window.operations.select("deblur")
    form = window.operations.current_form()
    form.set_values({"psf": "motion", "length": 15.0, "angle": 0.0})
    shown = {name for name, f in form.fields.items() if not f.isHidden()}
    assert {"length", "angle"} <= shown and not {"sigma", "radius", "region"} & shown
    pic = _gray(form.kernel_box.picture.pixmap().toImage())
    rows = np.flatnonzero(pic.max(axis=1) > 0)
    cols = np.flatnonzero(pic.max(axis=0) > 0)
    assert len(cols) > 4 * len(rows)  # a horizontal line
    form.set_values({"angle": 90.0})
    pic = _gray(form.kernel_box.picture.pixmap().toImage())
    rows = np.flatnonzero(pic.max(axis=1) > 0)
    cols = np.flatnonzero(pic.max(axis=0) > 0)
    assert len(rows) > 4 * len(cols)  # now vertical


def test_a_flat_field_reference_is_chosen_with_a_file_button(
    window, qtbot, tmp_path, monkeypatch
) -> None:
    """even-light's reference field opens a file chooser; once a reference is named the
    automatic model's row gives way (it is not used), and the step evens the light."""
    from PySide6.QtWidgets import QFileDialog, QLineEdit

    h, w = 96, 128
    shading = np.linspace(0.6, 1.0, w, dtype=np.float32)[None, :].repeat(h, 0)
    card = write_test_image(tmp_path / "blank.png", np.repeat(0.9 * shading[..., None], 3, 2))
    picture = np.full((h, w, 3), 0.5, np.float32)
    picture[30:60, 40:90] = 0.2
    assert window.open_file(write_test_image(tmp_path / "lit.png", picture * shading[..., None]))
    wait_idle(window)
    window.operations.select("even-light")
    form = window.operations.current_form()
    line = form.fields["reference"].editor
    assert isinstance(line, QLineEdit) and line.actions()
    model_row = form.layout().getWidgetPosition(form.fields["model"])[0]
    assert form.layout().isRowVisible(model_row)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(card), ""))
    line.actions()[0].trigger()
    assert form.values()["reference"] == str(card)
    assert not form.layout().isRowVisible(model_row)
    window.operations.live_preview.setChecked(False)
    wait_idle(window)
    with qtbot.waitSignal(window.service.finished, timeout=60_000):
        qtbot.mouseClick(window.operations.apply_button, Qt.MouseButton.LeftButton)
    wait_idle(window)
    doc = window.controller.document
    background = np.ones((h, w), bool)
    background[30:60, 40:90] = False
    evened = doc.image[..., 1][background]
    assert evened.std() < 0.01 < doc.original[..., 1][background].std(), evened.std()
    assert doc.history.steps[-1].record.resolved["reference_sha256"]
    # what the step said it did stays with its row in the history
    tip = window.history.item(window.history.count() - 1).toolTip()
    assert "flat field from blank.png" in tip, tip
    row = window.history.item(window.history.count() - 1).text()
    assert "reference" in row and "model" not in row  # only what meant something is listed
