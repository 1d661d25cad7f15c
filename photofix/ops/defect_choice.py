"""RegionChoice: the damage regions a ``remove-defects`` proposal found, one by one.

``remove-defects.propose`` puts the confident regions on the mask, each grown by
:data:`GROW` px and kept inside the alpha (transparent areas are not damage). It hands a
:class:`RegionChoice` back with its step (``StepResult.attachments["regions"]``, never
recorded) so a GUI can list every region it found with its confidence and take or leave any
one of them by the same rule: :meth:`RegionChoice.with_region` is the mask with one region
more or less, :meth:`RegionChoice.taken` whether a region is on a mask now. Qt-free.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from photofix.core.mask import grow
from photofix.ops.defects import DefectRegions, Region

GROW = 1  # px: one more pixel takes the soft edges of scratches and specks too

Box = tuple[int, int, int, int]  # (y0, x0, y1, x1), exclusive ends, as the history's boxes


@dataclass
class RegionChoice:
    """The regions ``found``, the picture's opaque part ``inside`` (bool HxW; None when it
    has no alpha) and the labels the proposal put on the mask (``proposed``)."""

    found: DefectRegions
    inside: np.ndarray | None
    proposed: frozenset[int]

    @classmethod
    def of(
        cls, found: DefectRegions, alpha: np.ndarray | None, every: bool = False
    ) -> RegionChoice:
        """The choice one-step ``remove-defects`` makes: the confident regions (``every``:
        all of them) that have pixels inside the alpha (``alpha`` float HxW or None)."""
        inside = None if alpha is None else np.asarray(alpha) > 0.5
        chosen = [r.label for r in found.regions if every or r.confident]
        if inside is not None and chosen:
            present = np.unique(found.labels[inside & (found.labels > 0)])
            chosen = sorted(set(chosen) & set(present.tolist()))
        return cls(found, inside, frozenset(chosen))

    # -- whole masks -------------------------------------------------------------------------
    def fill_mask(self, labels: Iterable[int] | None = None) -> np.ndarray:
        """bool HxW: the regions ``labels`` (default: the proposed ones) grown by ``GROW`` px,
        inside the alpha; the mask the proposal puts on the mask layer."""
        chosen = self.found.mask(self.proposed if labels is None else labels)
        if self.inside is not None:
            chosen &= self.inside
        if chosen.any():
            chosen = grow(chosen, GROW)
            if self.inside is not None:
                chosen &= self.inside
        return chosen

    # -- one region --------------------------------------------------------------------------
    def ranked(self) -> list[Region]:
        """Every region, most confident first (then the larger first)."""
        return sorted(self.found.regions, key=lambda r: (-r.confidence, -r.area, r.label))

    def region(self, label: int) -> Region:
        return self.found.regions[label - 1]

    def box(self, region: Region, margin: int = GROW) -> Box:
        """The region's box grown by ``margin`` px all round, within the picture."""
        h, w = self.found.labels.shape
        x0, y0, x1, y1 = region.box
        return (max(0, y0 - margin), max(0, x0 - margin), min(h, y1 + margin),
                min(w, x1 + margin))  # fmt: skip

    def _grown(self, own: np.ndarray, inside: np.ndarray | None) -> np.ndarray:
        if inside is not None:
            own = own & inside
        if not own.any():
            return own
        out = grow(own, GROW)
        return out & inside if inside is not None else out

    def pixels(self, region: Region) -> tuple[Box, np.ndarray]:
        """What taking ``region`` puts on the mask: its pixels grown by ``GROW`` px inside the
        alpha, as the proposal grows them (``box`` and bool crop of that box)."""
        box = self.box(region)
        sl = np.s_[box[0] : box[2], box[1] : box[3]]
        own = self.found.labels[sl] == region.label
        return box, self._grown(own, None if self.inside is None else self.inside[sl])

    def taken(self, mask: np.ndarray, region: Region) -> bool:
        """Whether ``region`` is on ``mask`` (bool HxW): most of its pixels inside the alpha
        are set."""
        y0, x0, y1, x1 = self.box(region, 0)
        own = self.found.labels[y0:y1, x0:x1] == region.label
        if self.inside is not None:
            own &= self.inside[y0:y1, x0:x1]
        total = int(own.sum())
        return total > 0 and 2 * int(mask[y0:y1, x0:x1][own].sum()) > total

    def with_region(self, mask: np.ndarray, region: Region, take: bool) -> np.ndarray:
        """A copy of ``mask`` (bool HxW) with ``region`` taken (its :meth:`pixels` set) or
        left out (those pixels cleared, except where they are the grown edge of another region
        still on the mask). Every pixel outside the region's grown box is as in ``mask``."""
        out = np.array(mask, bool, copy=True)
        box, pixels = self.pixels(region)
        sl = np.s_[box[0] : box[2], box[1] : box[3]]
        if take:
            out[sl] |= pixels
            return out
        # the other regions on the mask next to it keep their grown edge: look one GROW further
        wide = self.box(region, 2 * GROW)
        wl = np.s_[wide[0] : wide[2], wide[1] : wide[3]]
        labels = self.found.labels[wl]
        others = (labels > 0) & (labels != region.label) & out[wl]
        keep = self._grown(others, None if self.inside is None else self.inside[wl])
        oy, ox = box[0] - wide[0], box[1] - wide[1]
        keep = keep[oy : oy + pixels.shape[0], ox : ox + pixels.shape[1]]
        out[sl] &= ~(pixels & ~keep)
        return out
