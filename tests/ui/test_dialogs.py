"""The Models dialog and the shortcut sheet."""

from __future__ import annotations

import dataclasses
import hashlib

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
