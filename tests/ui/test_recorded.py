"""Every step recorded (issue 14), through the real window: the journal, recipes, records.

A GUI session is exported as a recipe and run by the CLI on the same scan: the result is bit
identical on the CPU with ``--exact``. Saving writes the record (sidecar and XMP); opening the
output again lists the recorded steps in the history.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication, QFileDialog

from photofix.core import imageio
from photofix.core.recipe import load_recipe
from photofix.ops import REGISTRY
from photofix.resources import sample_scan
from photofix.ui.controller import PreviewRequest
from photofix.ui.file_workflow import RECIPE_FILTER
from photofix.ui.main_window import MainWindow
from tests.ui.test_defects_gui import apply
from tests.ui.test_workspace import drag, view_point

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def small_scan(tmp_path) -> Path:
    """A 96 × 80 crop of the sample scan (dust, a scratch and fading), as an 8-bit PNG."""
    rgb = imageio.load_image(sample_scan()).rgb[300:380, 200:296]
    return imageio.save_image(tmp_path / "scan.png", rgb, bit_depth=8)


def brush(window: MainWindow, points: list[tuple[float, float]], size: int = 9) -> None:
    """A mask stroke through the controller's stroke slots (what a drag on the canvas sends)."""
    window.actions["tool_brush"].setChecked(True)
    window._on_brush_size_changed(size)
    c = window.controller
    c._on_stroke_started(QPointF(*points[0]))
    for p in points[1:]:
        c._on_stroke_moved(QPointF(*p))
    c._on_stroke_finished()
    QApplication.processEvents()


def apply_request(window: MainWindow, qtbot, name: str, **params) -> None:
    with qtbot.waitSignal(window.controller.job_ended, timeout=120_000) as blocker:
        window.controller.apply_operation(PreviewRequest(REGISTRY.get(name), params))
    assert blocker.args[1] == "finished", blocker.args
    QApplication.processEvents()


def journal_ops(window: MainWindow) -> list[str]:
    return [r.op for r in window.controller.document.journal]


def test_mask_edits_strokes_and_operations_are_journalled_and_exported_as_a_recipe(
    window, qtbot, small_scan, tmp_path
) -> None:
    assert window.open_file(small_scan)
    apply_request(window, qtbot, "fade", clip=0.4)
    brush(window, [(10, 10), (40, 12)])
    window.controller.edit_mask("grow", 2)
    window.controller.edit_mask("invert")
    assert journal_ops(window) == ["fade", "mask-paint", "mask-grow", "mask-invert"]
    window.controller.undo()  # an undone step is not part of the recipe
    recipe_path = tmp_path / "session.recipe.json"
    assert window.export_recipe_to(recipe_path)
    data = json.loads(recipe_path.read_text(encoding="utf-8"))
    assert data["format"] == "photofix-recipe"
    steps = data["steps"]
    assert [s["op"] for s in steps] == ["fade", "mask-paint", "mask-grow"]
    assert steps[0]["params"]["clip"] == 0.4
    assert steps[1]["per_image"] == "mask"  # a painted mask belongs to this scan only
    assert steps[2]["params"] == {"pixels": 2}
    assert "need each image's own mask" in window.statusBar().currentMessage()
    assert [s.op for s in load_recipe(recipe_path).steps] == ["fade", "mask-paint", "mask-grow"]


def test_export_recipe_without_steps_says_so_and_writes_nothing(
    window, answers, small_scan, tmp_path
) -> None:
    assert window.open_file(small_scan)
    assert not window.export_recipe_to(tmp_path / "empty.json")
    assert answers.warnings == ["No step has been applied to this image yet."]
    assert not (tmp_path / "empty.json").exists()


def test_review_proposal_is_recorded_as_a_detection_and_the_fill_as_its_own_step(
    window, qtbot
) -> None:
    from tests.ui.test_workspace import opened

    opened(window)
    apply(qtbot, window, "remove-defects", engine="fast")
    assert window.controller.reviewing()
    proposal = window.controller.document.journal[-1]
    assert proposal.op == "remove-defects.propose"
    assert proposal.mask is not None and proposal.mask.role == "proposed"
    with qtbot.waitSignal(window.controller.job_ended, timeout=60_000):
        window.controller.accept_review()
    QApplication.processEvents()
    assert journal_ops(window) == ["remove-defects.propose", "inpaint"]
    recipe = window.controller.recipe()
    assert recipe is not None
    # the proposal replays as detection (no per-image mask), the fill reads that mask
    assert [(s.op, s.per_image) for s in recipe.steps] == [
        ("remove-defects.propose", None),
        ("inpaint", None),
    ]


def test_gui_session_as_a_recipe_gives_the_same_pixels_in_the_cli(
    window, qtbot, small_scan, tmp_path, monkeypatch
) -> None:
    """Done-when of issue 14: fade, denoise sigma=auto, a brush mask, inpaint, upscale ×2 in
    the window (the Operations panel's Apply, a drag on the canvas); File → Export Recipe;
    ``photofix process --recipe`` on the same scan with ``--exact`` on the CPU: bit-identical."""
    window.settings.device = "cpu"
    window.actions["exact"].setChecked(True)  # Edit → Compute Device → Exact Float32
    assert window.open_file(small_scan)
    window.operations.live_preview.setChecked(False)
    apply(qtbot, window, "fade")
    apply(qtbot, window, "denoise", sigma="auto")
    window.actions["tool_brush"].setChecked(True)
    window.brush_spin.setValue(7)
    QApplication.processEvents()
    drag(
        window.view.viewport(),
        [view_point(window, x, y) for x, y in [(20, 30), (60, 34), (70, 50)]],
    )
    apply(qtbot, window, "inpaint")
    apply(qtbot, window, "upscale", scale=2, model="waifu2x-photo")  # seconds on a CPU
    doc = window.controller.document
    assert journal_ops(window) == ["fade", "denoise", "mask-paint", "inpaint", "upscale"]
    assert doc.size == (192, 160)
    denoise = doc.journal[1]
    assert denoise.params["sigma"] == "auto"  # the recipe measures σ again on each image
    assert isinstance(denoise.resolved.get("sigma"), (int, float))  # what auto chose
    assert all(r.dtype == "float32" for r in doc.journal if r.models)

    recipe = tmp_path / "session.recipe.json"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *args, **kw: (str(recipe), RECIPE_FILTER)
    )
    window.actions["export_recipe"].trigger()  # File → Export Recipe…
    assert [s.op for s in load_recipe(recipe).steps] == journal_ops(window)
    painted = doc.journal[2].mask.array()
    assert painted is not None and painted[30:35, 25:55].all()  # the drag's pixels
    mask = imageio.save_mask(tmp_path / "mask.png", painted)
    gui = tmp_path / "gui.tif"
    with qtbot.waitSignal(window.service.finished, timeout=30_000):
        window.save_to(gui, format="TIFF", bit_depth=16, as_copy=True)
    QApplication.processEvents()

    cli = tmp_path / "cli.tif"
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    done = subprocess.run(
        [sys.executable, "-m", "photofix", "process", str(small_scan), "--recipe", str(recipe),
         "--mask", str(mask), "-o", str(cli), "--exact", "--device", "cpu",
         "--bit-depth", "16", "--quiet"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    ours, theirs = imageio.load_image(gui).rgb, imageio.load_image(cli).rgb
    assert ours.shape == theirs.shape == (160, 192, 3)
    assert np.array_equal(ours, theirs)
    # and both are what the window shows, at 16 bits
    assert np.array_equal(imageio.to_uint16(doc.image), imageio.to_uint16(ours))


def test_save_writes_the_record_and_reopening_lists_the_recorded_steps(
    window, qtbot, small_scan, tmp_path
) -> None:
    from photofix.core import provenance

    window.settings.operator = "A. Archivist"
    window.actions["exact"].setChecked(True)
    assert window.open_file(small_scan)
    apply_request(window, qtbot, "fade", clip=0.4)
    brush(window, [(20, 30), (60, 34)])
    apply_request(window, qtbot, "inpaint", engine="fast")
    session_rows = [window.history.item(i).text() for i in range(1, window.history.count())]
    out = tmp_path / "restored.png"
    with qtbot.waitSignal(window.service.finished, timeout=30_000):
        window.save_to(out)
    QApplication.processEvents()

    # the sidecar: valid against the schema, the input's hash, the steps, the painted mask
    sidecar = provenance.sidecar_path(out)
    record = json.loads(sidecar.read_text(encoding="utf-8"))
    provenance.validate({k: v for k, v in record.items() if k != "recorded_in"})
    assert record["input"]["sha256"] == provenance.file_sha256(small_scan)
    assert record["output"]["sha256"] == provenance.file_sha256(out)
    assert record["operator"] == "A. Archivist" and record["runtime"]["exact"] is True
    assert [s["op"] for s in record["steps"]] == ["fade", "mask-paint", "inpaint"]
    assert (tmp_path / record["steps"][1]["mask"]["file"]).is_file()
    # the XMP inside the PNG tells the same story
    xmp = provenance.parse_xmp(imageio.read_info(out).xmp)
    actions = [event["action"] for event in xmp["history"]]
    assert actions[0] == "derived" and actions[-1] == "saved" and len(actions) == 5
    assert all(e["softwareAgent"].startswith("PhotoFix") for e in xmp["history"])
    assert xmp["derived_from"] is not None
    assert xmp["digital_source_type"] == provenance.ENHANCED
    # and the CLI reproduces the window's output from the record, bit for bit
    done = subprocess.run(
        [sys.executable, "-m", "photofix", "reproduce", str(sidecar), "--device", "cpu", "-q"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "bit-identical" in done.stdout

    # reopened: the recorded steps come first, marked, and cannot be jumped to
    assert window.open_file(out)
    rows = [window.history.item(i).text() for i in range(window.history.count())]
    assert rows[0] == "Recorded in the file (3 steps):"
    assert [row.strip() for row in rows[1:4]] == session_rows
    assert rows[1].strip().startswith("Fix fading — ") and "clip 0.4" in rows[1]
    assert window.history.item(1).toolTip().endswith("(recorded in the file)")
    assert rows[4] == "Opened restored.png"
    apply_request(window, qtbot, "fade")
    window.history.itemClicked.emit(window.history.item(1))  # a recorded step: no jump
    assert window.controller.document.history.index == 1
    window.history.itemClicked.emit(window.history.item(4))  # the state as opened
    assert window.controller.document.history.index == 0
    # a recipe from the reopened file still starts at the scan
    window.controller.redo()
    recipe = window.controller.recipe()
    assert [s.op for s in recipe.steps] == ["fade", "mask-paint", "inpaint", "fade"]


def test_a_recovered_session_keeps_its_journal_and_the_recorded_steps(
    make_window, qtbot, answers, small_scan, tmp_path
) -> None:
    from PySide6.QtWidgets import QMessageBox

    first = make_window()
    assert first.open_file(small_scan)
    apply_request(first, qtbot, "fade", clip=0.4)
    out = tmp_path / "restored.png"
    with qtbot.waitSignal(first.service.finished, timeout=30_000):
        first.save_to(out)
    QApplication.processEvents()
    assert first.open_file(out)
    brush(first, [(10, 10), (30, 12)])
    apply_request(first, qtbot, "inpaint", engine="fast")
    journal = [r.to_dict() for r in first.controller.document.journal]
    sha = first.controller.source_sha256
    assert first.autosave_now()
    first.sessions.wait()
    first.service.stop()  # a "crash"

    second = make_window()
    answers.replies = [QMessageBox.StandardButton.Yes]
    assert second.offer_recovery()
    c = second.controller
    assert [r.to_dict() for r in c.document.journal] == journal
    assert [r.op for r in c.recorded] == ["fade"] and c.source_sha256 == sha
    assert second.history.item(0).text() == "Recorded in the file (1 step):"
    assert [s.op for s in c.recipe().steps] == ["fade", "mask-paint", "inpaint"]


def test_a_damaged_record_beside_a_file_is_named_and_the_image_still_opens(
    window, qtbot, small_scan, tmp_path
) -> None:
    from photofix.core import provenance

    provenance.sidecar_path(small_scan).write_text("{ not json", encoding="utf-8")
    with qtbot.waitSignal(window.controller.message, timeout=5_000) as said:
        assert window.open_file(small_scan)
    assert "record of scan.png is unreadable" in said.args[0]
    assert window.controller.document.size == (96, 80)
    assert window.controller.recorded == []
    assert window.history.item(0).text() == "Opened scan.png"
    assert "unreadable" in window.statusBar().currentMessage()  # not hidden by "Opened …"
