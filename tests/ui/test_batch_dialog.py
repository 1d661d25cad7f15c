"""The window's Batch dialog: a recipe over a folder with progress and cancel, then review."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from photofix.ui.batch_dialog import BatchDialog, show_batch_dialog

FADE = {"format": "photofix-recipe", "version": 2,
        "steps": [{"op": "fade", "params": {}}]}  # fmt: skip
REVIEW = {
    "format": "photofix-recipe",
    "version": 2,
    "steps": [
        {"op": "detect-defects", "params": {}, "review": True},
        {"op": "inpaint", "params": {"engine": "fast"}},
    ],
}


def scans(folder: Path, count: int, size=(48, 64)) -> None:
    rng = np.random.default_rng(3)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        img = (rng.random((*size, 3)) * 150 + 50).astype(np.uint8)
        cv2.imwrite(str(folder / f"s{i:02d}.png"), img)


def fill(dialog: BatchDialog, recipe: Path, inputs: Path, output: Path) -> None:
    dialog.recipe_path.setText(str(recipe))
    dialog.input_dir.setText(str(inputs))
    dialog.output_dir.setText(str(output))
    dialog.workers.setValue(1)


def test_batch_dialog_runs_a_folder_with_progress(window, qtbot, tmp_path) -> None:
    scans(tmp_path / "in", 5)
    recipe = tmp_path / "fade.json"
    recipe.write_text(json.dumps(FADE))
    dialog = show_batch_dialog(window)
    assert window.actions["batch"].shortcut().toString() == "Ctrl+B"
    fill(dialog, recipe, tmp_path / "in", tmp_path / "out")
    assert dialog.start_batch()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=60000)
    assert dialog.progress.value() == dialog.progress.maximum() == 5
    assert dialog.result.count("done") == 5
    assert "Finished: 5 done" in dialog.status.text()
    assert len(list((tmp_path / "out").glob("s*.png"))) == 5
    assert "5 done" in dialog.log.toPlainText()  # the engine's summary line reached the log


def test_batch_dialog_cancel_stops_and_a_rerun_resumes(window, qtbot, tmp_path, monkeypatch):
    scans(tmp_path / "in", 12)
    recipe = tmp_path / "fade.json"
    recipe.write_text(json.dumps(FADE))
    dialog = show_batch_dialog(window)
    fill(dialog, recipe, tmp_path / "in", tmp_path / "out")
    # cancel as soon as the first image is done
    dialog._signals.outcome.connect(lambda *_: dialog.cancel_batch())
    assert dialog.start_batch()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=60000)
    first = dialog.result
    assert first.cancelled and 1 <= first.count("done") < 12
    assert "Cancelled" in dialog.status.text()
    dialog._signals.outcome.disconnect()
    dialog._signals.outcome.connect(dialog._on_outcome)
    dialog.result = None
    assert dialog.start_batch()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=60000)
    assert dialog.result.count("skipped") == first.count("done")
    assert dialog.result.count("done") == 12 - first.count("done")


def test_review_item_opens_with_its_proposal_and_accept_finishes(window, qtbot, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    img = np.full((96, 128, 3), 110, np.uint8)
    cv2.line(img, (8, 30), (120, 70), (252, 252, 252), 2)
    cv2.imwrite(str(folder / "print.png"), img)
    recipe = tmp_path / "review.json"
    recipe.write_text(json.dumps(REVIEW))
    dialog = show_batch_dialog(window)
    fill(dialog, recipe, folder, tmp_path / "out")
    assert dialog.start_batch()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=60000)
    assert dialog.review_list.count() == 1
    proposal = cv2.imread(str(tmp_path / "out" / "print.mask.png"), cv2.IMREAD_GRAYSCALE) > 0
    assert proposal.any()
    assert dialog.open_review()
    doc = window.controller.document
    assert doc is not None and np.array_equal(doc.mask, proposal)  # on the mask layer
    window.controller.undo()  # an undoable step of its own
    assert not window.controller.document.mask.any()
    window.controller.redo()
    assert dialog.accept_current()
    assert dialog.review_list.count() == 0
    out = cv2.imread(str(tmp_path / "out" / "print.png"))
    assert out is not None and np.array_equal(out[~proposal], img[~proposal])
