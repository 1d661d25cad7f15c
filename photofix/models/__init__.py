"""The model registry: an explicit list, in a fixed order (PyInstaller sees every module).

Each family module declares its :class:`~photofix.models.spec.ModelSpec` objects; torch is
imported only when a network is built.
"""

from __future__ import annotations

from photofix.core.errors import ModelMissing
from photofix.models import defect_net, fbcnn, ffdnet, realesrgan, waifu2x, zhang_colorization
from photofix.models.spec import ModelSpec

MODELS: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        *realesrgan.SPECS,
        *waifu2x.SPECS,
        *ffdnet.SPECS,
        *fbcnn.SPECS,
        *zhang_colorization.SPECS,
        *defect_net.SPECS,
    )
}


def get_model(model_id: str) -> ModelSpec:
    """The spec of ``model_id`` (ModelMissing naming the known ids otherwise)."""
    try:
        return MODELS[model_id]
    except KeyError:
        raise ModelMissing(f"unknown model {model_id!r}; available: {', '.join(MODELS)}") from None
