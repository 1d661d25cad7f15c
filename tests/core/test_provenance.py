"""XMP packets and records without the CLI: merging into a source's XMP, the JPEG size limit,
recipe versions."""

from __future__ import annotations

import numpy as np
import pytest

from photofix.core import provenance
from photofix.core.recipe import (
    MaskRef,
    RecipeError,
    StepRecord,
    load_recipe,
    mask_sha256,
)

COMPOSITE_URI = (
    b"http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
)
FOREIGN = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
    b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
    b'  xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
    b'  Iptc4xmpExt:DigitalSourceType="' + COMPOSITE_URI + b'">\n'
    b'<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">City Archive, all rights reserved'
    b"</rdf:li></rdf:Alt></dc:rights>\n"
    b'</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)


def _record(steps: list[StepRecord]) -> dict:
    return provenance.new_record(None, steps, source_sha256="ab" * 32)


def test_packet_keeps_the_sources_properties_and_its_synthetic_origin():
    step = StepRecord("fade", 1, "Fix fading", {"clip": 0.5})
    packet = provenance.xmp_packet(_record([step]), FOREIGN)
    assert b"City Archive, all rights reserved" in packet
    found = provenance.parse_xmp(packet)
    assert [e["action"] for e in found["history"]] == ["derived", "filtered", "saved"]
    # fade alone only enhances, but the source already held synthesised pixels
    assert found["digital_source_type"] == provenance.COMPOSITE
    assert found["derived_from"]["documentID"] == "urn:sha256:" + "ab" * 32
    assert found["record"]["steps"][0]["op"] == "fade"


def test_an_unreadable_source_packet_is_replaced_not_copied():
    packet = provenance.xmp_packet(_record([]), b"<x:xmpmeta><broken")
    assert b"broken" not in packet
    assert provenance.parse_xmp(packet)["digital_source_type"] == provenance.ENHANCED


def test_jpeg_limit_drops_the_embedded_record_first():
    steps = [StepRecord("fade", 1, "Fix fading", {"clip": 0.5}, notices=["x" * 400])] * 200
    record = _record(steps)
    full = provenance.xmp_packet(record)
    fitted = provenance.xmp_packet(record, limit=provenance.JPEG_XMP_LIMIT)
    assert len(full) > provenance.JPEG_XMP_LIMIT >= len(fitted)
    found = provenance.parse_xmp(fitted)
    assert found["record"] is None and len(found["history"]) == 202


def test_mask_digest_is_that_of_its_8_bit_samples():
    mask = np.zeros((5, 7), bool)
    mask[1:3, 2:6] = True
    ref = MaskRef.of(mask, "painted")
    assert ref.sha256 == mask_sha256(mask) and ref.set_pixels == 8
    assert np.array_equal(ref.array(), mask)
    with pytest.raises(ValueError):
        MaskRef.of(mask, "scribbled")


def test_newer_recipes_are_refused_with_a_reason():
    with pytest.raises(RecipeError, match="newer than this PhotoFix reads"):
        load_recipe({"format": "photofix-recipe", "version": 99, "steps": []})
    with pytest.raises(RecipeError, match="not a PhotoFix recipe"):
        load_recipe({"format": "something-else", "steps": []})
