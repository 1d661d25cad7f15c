"""The output planner (photofix.core.outputs) on its own: pure, no pixels."""

from __future__ import annotations

from pathlib import Path

import pytest

from photofix.core.errors import SourceOverwrite, WriteError
from photofix.core.outputs import OutputConflict, check_writable, plan_outputs, same_file

SUFFIX = {"png": ".png", "tiff": ".tif", "jpeg": ".jpg"}
FORMAT = {".png": "png", ".tif": "tiff", ".jpg": "jpeg"}


def plan(tmp_path: Path, inputs, output, **kwargs):
    return plan_outputs([tmp_path / i for i in inputs], tmp_path / output,
                        write_suffix=SUFFIX, suffix_format=FORMAT, **kwargs)  # fmt: skip


def test_plan_names_every_output(tmp_path: Path) -> None:
    jobs = plan(tmp_path, ["a.tif", "b.png"], "out", save_mask=tmp_path / "masks")
    assert [(j.target.name, j.mask_target.name) for j in jobs] == [
        ("a.tif", "a_mask.png"),
        ("b.png", "b_mask.png"),
    ]


def test_plan_refuses_a_mask_output_over_a_read_file(tmp_path: Path) -> None:
    with pytest.raises(SourceOverwrite):
        plan(tmp_path, ["a.png"], "o.png", save_mask=tmp_path / "m.png", reads=[tmp_path / "m.png"])
    with pytest.raises(OutputConflict):
        plan(tmp_path, ["a.png"], "o.png", save_mask=tmp_path / "o.png")
    with pytest.raises(OutputConflict, match="extension"):
        plan(tmp_path, ["a.png"], "o.xyz")
    with pytest.raises(OutputConflict, match="PNG"):
        plan(tmp_path, ["a.png"], "o.png", save_mask=tmp_path / "m.jpg")


def test_same_file_sees_hard_links_and_dot_segments(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "b.png").hardlink_to(tmp_path / "a.png")
    assert same_file(tmp_path / "a.png", tmp_path / "b.png")
    assert same_file(tmp_path / "a.png", tmp_path / "sub" / ".." / "a.png")
    assert not same_file(tmp_path / "a.png", tmp_path / "c.png")


def test_check_writable_names_what_is_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(WriteError, match="is a file, not a folder"):
        check_writable(tmp_path / "file" / "deeper" / "out.png")
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(WriteError, match="folder of that name"):
        check_writable(tmp_path / "dir.png")
