"""Help ▸ Shortcuts and Guide (F1 or Ctrl+/): every keyboard shortcut, read from the window's
own actions so the sheet cannot go stale, the canvas's mouse habits, and a short user guide
for a first restoration."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

# Keys and mouse habits of the canvas that are not menu actions.
CANVAS_KEYS: tuple[tuple[str, str], ...] = (
    ("Space + drag, or middle drag", "Pan"),
    ("Mouse wheel", "Zoom at the cursor"),
    ("Hold \\ (backslash)", "Show the before image everywhere"),
    ("Drag the split line's handle", "Move the compare split"),
    ("Alt + click (clone stamp)", "Set where the clone stamp copies from"),
    ("Alt + drag (mask eraser)", "Paint instead of erase"),
)

GUIDE = """
<h3>Your first restoration</h3>
<ol>
<li><b>Open</b> a scan (Ctrl+O, or drop the file on the window). PhotoFix never writes over
the original: Save writes a new file unless you say otherwise.</li>
<li><b>Several prints on one scan?</b> Operations ▸ <i>Split a scan of several prints</i> cuts
each one out, upright. On the command line:
<code>photofix process page.tif -o prints/ --op split-scan</code>.</li>
<li><b>Crop and straighten</b>: with the <b>Straighten tool (L)</b> draw a line along a
horizon or the edge of the print: the picture turns to make it level and the tilted edges are
cropped away. The <b>Crop tool (C)</b> keeps the rectangle you drag (the Crop form's ratio,
e.g. 5x7, shapes it).</li>
<li><b>Dust and scratches</b>: <i>Find dust and scratches</i> proposes a mask to check, then
<i>Fill</i>. For single specks use the <b>spot healing brush (J)</b>: paint over the speck and
let go; the <b>clone stamp (S)</b> copies from a place you Alt-click.</li>
<li><b>Tones and colour</b>: <i>Fade</i> restores faded dyes; <i>Levels</i>, <i>Curves</i>,
<i>Exposure</i> and the <b>White Balance picker (I)</b>, a click on something that should be
grey, fine-tune.
<i>Grayscale</i> saves a single gray channel; <i>Tone</i> adds sepia or another toner.</li>
<li><b>Compare</b> with Y (side by side), Shift+Y (split), or hold backslash. Every step is in
History: click a row to go back to it.</li>
<li><b>Save</b> (Ctrl+S) keeps the bit depth, ICC profile and DPI of the scan.</li>
</ol>
<p>Each operation's form says what it changes: <i>only inside the mask</i>, <i>the mask, not
the image</i>, or <i>the whole image</i>. Models that are not installed are offered for
download from the Models dialog (Help ▸ Models…); nothing is fetched unless you ask.</p>
"""


def shortcut_rows(actions: Iterable[QAction]) -> list[tuple[str, str]]:
    """(keys, what it does) for every action that has a shortcut, in the given order."""
    rows = []
    seen = set()
    for action in actions:
        keys = [s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts()]
        keys = [k for k in keys if k]
        if not keys:
            continue
        name = action.text().replace("&", "").rstrip("…").strip()
        if (name, tuple(keys)) in seen:
            continue
        seen.add((name, tuple(keys)))
        rows.append((", ".join(keys), name))
    return rows


class HelpDialog(QDialog):
    """Two tabs: Shortcuts (menu actions, then the canvas's keys) and Guide."""

    def __init__(self, actions: Iterable[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("PhotoFix Shortcuts and Guide")
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget()
        rows = [*shortcut_rows(actions), *CANVAS_KEYS]
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Keys", "Does"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        for r, (keys, does) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(keys))
            self.table.setItem(r, 1, QTableWidgetItem(does))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.tabs.addTab(self.table, "Shortcuts")
        self.guide = QTextBrowser()
        self.guide.setHtml(GUIDE)
        self.tabs.addTab(self.guide, "Guide")
        layout.addWidget(self.tabs)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
        self.resize(640, 560)

    def rows(self) -> list[tuple[str, str]]:
        return [
            (self.table.item(r, 0).text(), self.table.item(r, 1).text())
            for r in range(self.table.rowCount())
        ]
