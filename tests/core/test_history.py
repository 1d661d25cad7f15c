"""Undo/redo through patches must restore every layer bit-exactly, within a byte budget."""

from __future__ import annotations

import numpy as np
import pytest

from photofix.core.document import Document
from photofix.core.history import History, Patch, Step, changed_box


def _state(doc: Document) -> tuple[np.ndarray, ...]:
    return tuple(layer.copy() for layer in (doc.image, doc.mask, doc.hints, doc.hint_mask))


def _assert_state(doc: Document, state: tuple[np.ndarray, ...]) -> None:
    for now, then in zip((doc.image, doc.mask, doc.hints, doc.hint_mask), state, strict=True):
        assert now.dtype == then.dtype
        assert np.array_equal(now, then)


def _random_action(doc: Document, rng: np.random.Generator) -> bool:
    """Do one random edit; True when it recorded a step."""
    h, w = doc.image.shape[:2]
    kind = rng.integers(0, 4)
    before = doc.history.index
    if kind == 0:  # pixel patch, like an operation limited to a region
        y0, x0 = rng.integers(0, h - 1), rng.integers(0, w - 1)
        y1, x1 = rng.integers(y0 + 1, h + 1), rng.integers(x0 + 1, w + 1)
        new = doc.image.copy()
        new[y0:y1, x0:x1] = rng.random((y1 - y0, x1 - x0, 3), dtype=np.float32)
        doc.commit("patch", {"image": new}, op="test", params={"box": (y0, x0, y1, x1)})
    elif kind == 3:  # hint stroke with a colour
        doc.begin_stroke("hint_mask", hint_colour=tuple(rng.random(3)))
        for _ in range(rng.integers(1, 4)):
            doc.stroke_to(rng.uniform(-5, [w + 5, h + 5], size=(3, 2)), rng.uniform(0.5, 6))
        doc.end_stroke()
    else:  # mask stroke (paint or erase) made of several dab segments
        doc.begin_stroke("mask")
        for _ in range(rng.integers(1, 5)):
            pts = rng.uniform(-5, [w + 5, h + 5], size=(rng.integers(1, 5), 2))
            doc.stroke_to(pts, rng.uniform(0.5, 8), erase=bool(kind == 2))
        doc.end_stroke()
    return doc.history.index != before


def test_200_random_edits_undo_redo_bit_exact(rng: np.random.Generator) -> None:
    doc = Document(rng.random((61, 83, 3), dtype=np.float32))
    states = [_state(doc)]
    while len(states) < 201:
        if _random_action(doc, rng):
            states.append(_state(doc))
    assert doc.history.index == 200
    # random walk over the history: undo, redo and jumps, checking every layer each time
    for _ in range(600):
        move = rng.integers(0, 3)
        if move == 0:
            doc.undo()
        elif move == 1:
            doc.redo()
        else:
            doc.goto(int(rng.integers(0, 201)))
        _assert_state(doc, states[doc.history.index])
    doc.goto(0)
    _assert_state(doc, states[0])
    doc.goto(200)
    _assert_state(doc, states[200])


def test_one_stroke_is_one_step_and_stores_only_its_box() -> None:
    doc = Document(np.zeros((400, 500, 3), np.float32))
    doc.begin_stroke("mask")
    for x in range(100, 200, 5):  # 20 dabs, as mouse-move events would deliver them
        doc.stroke_to([(x, 50), (x + 5, 52)], 4)
    step = doc.end_stroke()
    assert step is not None and len(doc.history.steps) == 1
    (patch,) = step.patches
    y0, x0, y1, x1 = patch.box
    assert (x0, x1) == (96, 205) and y0 >= 44 and y1 <= 58
    assert patch.nbytes < 2 * 20 * 120  # two bool crops, not the whole 200 000-px mask
    doc.undo()
    assert not doc.mask.any()
    doc.redo()
    assert doc.mask[50, 150] and not doc.mask[100, 150]


def test_budget_drops_oldest_steps_and_keeps_the_rest_exact(rng: np.random.Generator) -> None:
    doc = Document(rng.random((50, 50, 3), dtype=np.float32), history_budget=60_000)
    states = [_state(doc)]
    for i in range(40):
        new = doc.image.copy()
        new[i % 40 : i % 40 + 10, :] = rng.random((10, 50, 3), dtype=np.float32)
        doc.commit(f"band {i}", {"image": new})  # 2 x 6000 bytes per step
        states.append(_state(doc))
    h = doc.history
    assert h.nbytes <= 60_000
    assert h.dropped == 40 - len(h.steps) and h.dropped > 0
    while h.can_undo:
        doc.undo()
    _assert_state(doc, states[h.dropped])  # the oldest state still reachable
    while h.can_redo:
        doc.redo()
    _assert_state(doc, states[-1])


def test_newest_step_survives_a_budget_smaller_than_itself() -> None:
    doc = Document(np.zeros((100, 100, 3), np.float32), history_budget=1000)
    doc.commit("big", {"image": np.ones((100, 100, 3), np.float32)})
    assert len(doc.history.steps) == 1
    doc.undo()
    assert not doc.image.any()


def test_resize_like_commit_stores_whole_layers_and_undoes() -> None:
    doc = Document(np.full((10, 20, 3), 0.5, np.float32))
    doc.begin_stroke("mask")
    doc.stroke_to([(5, 5)], 2)
    doc.end_stroke()
    big = {
        "image": np.zeros((20, 40, 3), np.float32),
        "mask": np.zeros((20, 40), bool),
        "hints": np.zeros((20, 40, 3), np.float32),
        "hint_mask": np.zeros((20, 40), bool),
    }
    doc.commit("resize", big, op="resize", params={"scale": 2})
    assert doc.size == (40, 20)
    doc.undo()
    assert doc.size == (20, 10) and doc.mask[5, 5]


def test_commit_with_inconsistent_sizes_changes_nothing() -> None:
    doc = Document(np.zeros((10, 20, 3), np.float32))
    with pytest.raises(ValueError, match="mask"):
        doc.commit("bad", {"image": np.zeros((20, 40, 3), np.float32)})
    assert doc.size == (20, 10) and not doc.history.steps


def test_unchanged_commit_records_nothing_and_redo_is_cleared_by_new_step() -> None:
    doc = Document(np.zeros((8, 8, 3), np.float32))
    assert doc.commit("same", {"image": doc.image.copy()}) is None
    doc.commit("a", {"image": np.ones((8, 8, 3), np.float32)})
    doc.undo()
    assert doc.history.can_redo
    doc.commit("b", {"image": np.full((8, 8, 3), 0.25, np.float32)})
    assert not doc.history.can_redo and [s.label for s in doc.history.steps] == ["b"]


def test_modified_flag_follows_save_point() -> None:
    doc = Document(np.zeros((8, 8, 3), np.float32))
    assert not doc.modified
    doc.commit("a", {"image": np.ones((8, 8, 3), np.float32)})
    assert doc.modified
    doc.mark_saved()
    assert not doc.modified
    doc.undo()
    assert doc.modified


def test_changed_box_and_patch_between() -> None:
    a = np.zeros((5, 6), bool)
    b = a.copy()
    assert changed_box(a, b) is None
    b[1, 2] = b[3, 4] = True
    assert changed_box(a, b) == (1, 2, 4, 5)
    patch = Patch.between("mask", a, b)
    assert patch is not None and patch.old.shape == (3, 3)
    h = History()
    with pytest.raises(ValueError):
        History(0)
    h.push(Step("x", [patch]))
    assert h.can_undo and not h.can_redo
