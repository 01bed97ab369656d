"""Real code-free images (textures, crops of real photos beside their codes, label backs, charts, text; see
fixtures/code_free/PROVENANCE.md) yield no code."""
from pathlib import Path

import pytest
from PIL import Image, ImageOps

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
