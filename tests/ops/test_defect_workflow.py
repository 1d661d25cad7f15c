"""The retouching workflow at the Document level: detect -> touch up the mask -> fill -> undo.

(The same sequence through the window's buttons, brush and Ctrl+Z is in
tests/ui/test_defects_gui.py; this is the model underneath it.)
"""

from __future__ import annotations

import numpy as np

from benchmarks import synthetic_defects as sd
from photofix.core.document import Document
from photofix.ops import REGISTRY, Layers, run_operation


def test_detect_edit_fill_then_undo_restores_image_and_mask(photos) -> None:
    # seed 22: scratches the detector finds clearly (seed 21's faint ones, median scratch
    # probability 0.23, the earlier weights found half of and the real-dust fine-tuned ones
    # none; see docs/defects.md, *Real prints*)
    rng = np.random.default_rng(22)
    clean = sd.add_grain(photos["coffee"][50:250, 150:400].copy(), 0.01, rng)
    damaged, _ = sd.add_scratches(clean, rng, 0.02)
    doc = Document(damaged)
    original = doc.image.copy()

    # 1. detect: the proposal lands on the mask layer as its own undo step
    detect = REGISTRY.get("detect-defects")
    proposal = run_operation(detect, Layers(doc.image), detect.resolve({})).mask
    assert proposal.any()
    doc.commit("Find dust and scratches", {"mask": proposal}, op="detect-defects")

    # 2. the user paints over a spot the detector missed (one stroke = one step)
    doc.begin_stroke("mask")
    doc.stroke_to([(20.0, 30.0), (60.0, 35.0)], 3.0)
    assert doc.end_stroke() is not None
    edited = doc.mask.copy()
    assert edited[32, 40] and (edited & ~proposal).any()

    # 3. fill the edited mask with the patch engine and commit the result
    fill = REGISTRY.get("inpaint")
    layers = Layers(doc.image, mask=doc.mask)
    result = run_operation(fill, layers, fill.resolve({"engine": "patch"}))
    doc.commit("Fill damage", {"image": result.image}, op="inpaint")
    assert not np.array_equal(doc.image, original)
    assert np.array_equal(doc.image[~edited], original[~edited])

    # 4. undo twice: the fill and the stroke are gone, the detector's proposal is back
    doc.undo()
    assert np.array_equal(doc.image, original) and np.array_equal(doc.mask, edited)
    doc.undo()
    assert np.array_equal(doc.image, original) and np.array_equal(doc.mask, proposal)
    # and once more: the mask is empty again, as loaded
    doc.undo()
    assert not doc.mask.any()
    doc.redo()
    doc.redo()
    doc.redo()
    assert np.array_equal(doc.mask, edited) and np.array_equal(doc.image, result.image)
