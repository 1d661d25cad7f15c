"""The new tools from the command line: split-scan writes one file per print, geometry and
grayscale keep what the source file held."""

from __future__ import annotations

import numpy as np

from photofix.__main__ import main
from photofix.core import imageio
from tests.ops.test_split_scan import PRINTS, flatbed_page


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_split_scan_writes_one_file_per_print(tmp_path, capsys, photos) -> None:
    page, _ = flatbed_page(photos)
    src = tmp_path / "page.png"
    meta = imageio.ImageMeta("PNG", 1500, 1100, "RGB", 16, False, False, dpi=(600.0, 600.0))
    imageio.save_image(src, page, meta=meta)
    code, _, err = run(
        capsys, "process", src, "-o", tmp_path / "prints", "--op", "split-scan", "-q"
    )
    assert code == 0, err
    names = sorted(p.name for p in (tmp_path / "prints").glob("*.png"))
    assert names == ["page-1.png", "page-2.png", "page-3.png"]
    # each print carries the record of how it was made, beside it
    assert all((tmp_path / "prints" / f"{n}.photofix.json").is_file() for n in names)
    for i, (_, _, (w, h)) in enumerate(PRINTS, 1):
        info = imageio.read_info(tmp_path / "prints" / f"page-{i}.png")
        assert abs(info.width - w) <= 4 and abs(info.height - h) <= 4
        assert info.bit_depth == 16 and info.dpi == (600.0, 600.0)


def test_split_scan_must_end_the_chain(tmp_path, capsys, photos) -> None:
    src = tmp_path / "page.png"
    imageio.save_image(src, photos["coffee"])
    code, _, err = run(capsys, "process", src, "-o", tmp_path / "o", "--op", "split-scan",
                       "--op", "levels")  # fmt: skip
    assert code == 2 or code == 1
    assert "last --op" in err and not (tmp_path / "o").exists()


def test_rotate_90_on_the_cli_swaps_dpi_and_grayscale_writes_one_channel(
    tmp_path, capsys, photos
) -> None:
    src = tmp_path / "scan.png"
    meta = imageio.ImageMeta("PNG", 451, 300, "RGB", 16, False, False, dpi=(600.0, 300.0))
    imageio.save_image(src, photos["chelsea"], meta=meta)
    out = tmp_path / "out.png"
    code, _, err = run(capsys, "process", src, "-o", out, "--op", "rotate:angle=90",
                       "--op", "grayscale", "-q")  # fmt: skip
    assert code == 0, err
    info = imageio.read_info(out)
    assert (info.width, info.height) == (300, 451) and info.dpi == (300.0, 600.0)
    assert info.grayscale and info.bit_depth == 16
    original = imageio.load_image(src).rgb
    gray = imageio.load_image(out).rgb[..., 0]
    luma = np.rot90(original @ np.array([0.299, 0.587, 0.114], np.float32))
    assert np.abs(gray - luma).max() < 2 / 65535
