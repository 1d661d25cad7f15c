"""The Models dialog and the shortcut sheet."""

from __future__ import annotations

import dataclasses
import hashlib

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from photofix.models import MODELS
from photofix.models import download as dl
from photofix.ui.help_dialog import HelpDialog
from photofix.ui.models_dialog import ModelsDialog
from tests.models.conftest import models_dir  # noqa: F401  (fixture)

BLOB = b"not really a network, but it hashes like one" * 100


def _models() -> dict:
    """The real catalog with one small downloadable entry whose file the test can make."""
    base = MODELS["zhang-siggraph17"]
    weights = dl.DownloadWeights(
        url="http://127.0.0.1:9/tiny.pth",
        sha256=hashlib.sha256(BLOB).hexdigest(),
        size=len(BLOB),
        filename="tiny.pth",
    )
    tiny = dataclasses.replace(base, id="tiny", title="Tiny test model", weights=weights)
    return {**MODELS, "tiny": tiny}


def test_models_dialog_lists_imports_verifies_and_removes(qtbot, tmp_path, models_dir) -> None:  # noqa: F811
    asked: list[str] = []
    dialog = ModelsDialog(models=_models(), confirm=lambda text: asked.append(text) or True)
    qtbot.addWidget(dialog)
    row = dialog.row_text("realesrgan-x4plus")
    assert row["Status"] == "Included" and row["Licence"] and row["Size"].endswith("MB")
    assert dialog.row_text("tiny")["Status"] == "Not installed"
    assert dialog.row_text("tiny")["Stored in"] == str(models_dir)
    dialog.select("tiny")
    assert dialog.install_button.isEnabled() and not dialog.verify_button.isEnabled()
    with qtbot.waitSignal(dialog.install_requested) as sig:
        dialog.install_button.click()
    assert sig.args == ["tiny"]
    # a wrong file is refused, the right one imported and verified
    wrong = tmp_path / "wrong.pth"
    wrong.write_bytes(b"x" * 10)
    assert not dialog.import_from("tiny", wrong)
    assert "nothing was installed" in dialog.status.text()
    good = tmp_path / "downloaded.pth"
    good.write_bytes(BLOB)
    assert dialog.import_from("tiny", good)
    assert dialog.row_text("tiny")["Status"] == "Installed"
    assert dialog.verify("tiny") and "intact" in dialog.status.text()
    (models_dir / "tiny.pth").write_bytes(BLOB[:-1] + b"?")
    assert not dialog.verify("tiny") and "damaged" in dialog.status.text()
    assert dialog.remove("tiny") and asked and "tiny.pth" in asked[0]
    assert not (models_dir / "tiny.pth").exists()
    assert dialog.row_text("tiny")["Status"] == "Not installed"
    dialog.select("realesrgan-x4plus")
    assert not dialog.remove_button.isEnabled() and not dialog.install_button.isEnabled()
    dialog.show()
    dialog.select("tiny")
    dialog.grab().save(str(tmp_path / "models.png"))


def test_help_sheet_lists_the_shortcuts_and_a_guide(qtbot) -> None:
    undo = QAction("&Undo")
    undo.setShortcut(QKeySequence("Ctrl+Z"))
    heal = QAction("Spot &Healing Brush")
    heal.setShortcut(QKeySequence("J"))
    dialog = HelpDialog([undo, heal, QAction("No shortcut")])
    qtbot.addWidget(dialog)
    rows = dialog.rows()
    assert ("Ctrl+Z", "Undo") in rows and ("J", "Spot Healing Brush") in rows
    assert all(does != "No shortcut" for _, does in rows)
    assert any("Alt + click" in keys for keys, _ in rows)
    assert "first restoration" in dialog.guide.toPlainText()


def test_split_scan_dialog_reviews_and_saves_each_print(window, tmp_path, photos) -> None:
    from photofix.core import imageio
    from photofix.ui.split_scan_dialog import SplitScanDialog
    from tests.ops.test_split_scan import PRINTS, flatbed_page

    page, _ = flatbed_page(photos)
    meta = imageio.ImageMeta("PNG", 1500, 1100, "RGB", 16, False, False, dpi=(600.0, 600.0))
    src = imageio.save_image(tmp_path / "page.png", page, meta=meta)
    assert window.open_file(src)
    window.operations.select("split-scan")
    window.operations.apply_button.click()  # Apply opens the review, changes nothing
    dialog = window.findChild(SplitScanDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.list.count() == 3 and not window.controller.document.history.steps
    assert "tilted -5.0°" in dialog.list.item(0).text()
    dialog.list.item(1).setCheckState(Qt.CheckState.Unchecked)  # keep prints 1 and 3
    written = dialog.save_to(tmp_path / "prints")
    assert [p.name for p in written] == ["page-1.png", "page-3.png"]
    info = imageio.read_info(written[1])
    w, h = PRINTS[2][2]
    assert abs(info.width - w) <= 4 and abs(info.height - h) <= 4
    assert info.bit_depth == 16 and info.dpi == (600.0, 600.0)
    dialog.grab().save(str(tmp_path / "split.png"))
