"""Real code-free images (textures, crops of real photos beside their codes, label backs, charts, text; see
fixtures/code_free/PROVENANCE.md) yield no code."""
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from bench import label_images
from bench.label_images import CODE_FREE_PATTERNS
from inspector.codes.photos import decode_image, decode_photo

CODE_FREE = sorted((Path(__file__).parent / "fixtures" / "code_free").glob("*.jpg"))


def test_the_code_free_set_is_there():
    assert len(CODE_FREE) >= 28


@pytest.mark.parametrize("path", CODE_FREE, ids=lambda path: path.stem)
def test_a_code_free_image_yields_no_code(path):
    assert decode_photo(path.read_bytes()).codes == []


@pytest.mark.parametrize("path", CODE_FREE, ids=lambda path: path.stem)
def test_a_code_free_image_inverted_yields_no_code(path):
    # Inversion is now one of the passes: light-on-dark textures must not become codes either.
    assert decode_image(ImageOps.invert(Image.open(path).convert("L"))).codes == []


@pytest.mark.parametrize("size", [(300, 220), (640, 480)])
@pytest.mark.parametrize("pattern", CODE_FREE_PATTERNS)
def test_a_small_code_free_photo_yields_no_code_through_the_enlarging_passes(pattern, size):
    # Photos this small get the enlarged and doubled-and-sharpened passes, which must not make codes of textures.
    assert decode_photo(label_images.code_free_photo(pattern, "small", size).photo).codes == []
