"""The committed real-print masks are what their edit lists make; the split holds a third out.

The masks in ``benchmarks/real_masks`` score every real-print figure of docs/defects.md; a mask
edited by hand, or an edit list changed without ``real_labels.py build``, would make those
figures unreproducible. The images are needed (``../shared/data/real-damage``); without them
only the split is checked.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import real_labels  # noqa: E402


def _entries() -> list[dict]:
    return real_labels.load_labels()


def test_split_keeps_a_third_of_the_labelled_prints_out_of_training():
    split = json.loads(real_labels.SPLIT.read_text())
    names = {Path(e["file"]).name for e in _entries()}
    held, train = set(split["held_out"]), set(split["train"])
    assert not held & train
    assert held | train == names
    assert len(names) >= 15
    assert len(held) >= len(names) // 3


@pytest.mark.skipif(not real_labels.DATA.is_dir(), reason="../shared/data/real-damage not here")
@pytest.mark.parametrize("entry", _entries(), ids=lambda e: Path(e["file"]).stem)
def test_committed_mask_is_what_the_edit_list_builds(entry):
    path = real_labels.DATA / entry["file"]
    assert real_labels.sha1(path) == entry["sha1"]
    committed = cv2.imread(str(real_labels.MASKS / f"{entry['sha1']}.png"), cv2.IMREAD_UNCHANGED)
    built = real_labels.draft(entry)
    assert committed is not None and committed.shape == built.shape
    assert np.array_equal(committed, built)
    checked = built != real_labels.KIND_VALUES["ignore"]
    assert checked.any()  # some of the print was looked at and is scored
