"""Photo decoding on real generated photos through the real decoders (zxing-cpp and zbar)."""
import functools
import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image, ImageOps

from bench import label_images
from inspector.codes.photos import (
    DARK_HINT,
    NO_CODE_HINT,
    DecodeResult,
    FoundCode,
    PhotoError,
    decode_image,
    decode_photo,
    open_photo,
)


def gen_label(kind, seed=1, size=(900, 700), difficulty=0.0):
    return label_images.label_photo(kind, f"test-{seed}", size, difficulty)


def gen_upright_label():
    """A clean native Code 128 label as a PIL image, upright."""
    case = gen_label("code128_native", seed=7, difficulty=0.0)
    return Image.open(io.BytesIO(case.photo)).convert("RGB"), case.expected


@functools.cache
def bomb_png(width, height):
    """A valid 1-bit PNG of the given size, all white, built row by row so it never exists in memory."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    packer = zlib.compressobj(1)
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    rows = row * 500
    idat = b"".join(packer.compress(rows) for _ in range(height // 500)) + packer.compress(row * (height % 500))
    idat += packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg_bytes(image, **kwargs):
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=92, **kwargs)
    return buf.getvalue()


@pytest.mark.parametrize(
    "kind, fmt, gs1",
    [
        ("qr_native", "qr_code", False),
        ("code128_native", "code_128", False),
        ("dm_gs1", "data_matrix", True),
        ("qr_gs1", "qr_code", True),
        ("gs1_128", "gs1_128", True),
        ("ean_13", "ean_13", False),
        ("ean_8", "ean_8", False),
        ("upc_a", "upc_a", False),
    ],
)
def test_each_symbology_decodes_with_text_and_format(kind, fmt, gs1):
    case = gen_label(kind)
    result = decode_photo(case.photo)
    (expected,) = case.expected
    assert result == DecodeResult([FoundCode(expected, fmt, gs1)], None)


def test_gs1_symbols_read_as_bracketed_hri():
    result = decode_photo(gen_label("dm_gs1", seed=3).photo)
    assert result.codes[0].text.startswith("(01)")
    assert "(10)" in result.codes[0].text


def test_native_code_reads_as_issued():
    case = gen_label("qr_native", seed=4)
    (code,) = decode_photo(case.photo).codes
    assert {code.text} == case.expected
    assert code.text.startswith("RE")


@pytest.mark.parametrize("kind", ["qr_native+dm_gs1", "gs1_128+qr_native", "dm_gs1+code128_native"])
def test_two_codes_on_one_label_are_both_returned(kind):
    case = gen_label(kind, size=(1200, 900))
    result = decode_photo(case.photo)
    assert {c.text for c in result.codes} == case.expected
    assert len(result.codes) == 2


def test_same_text_in_two_symbols_is_returned_once():
    text = "RE6LWUT4A5U"
    qr = label_images.symbol(text, "qr_code", 6)
    bars = label_images.symbol(text, "code_128", 3, bar_height=120)
    page = Image.new("L", (qr.width + bars.width + 120, 300), 255)
    page.paste(qr, (40, 40))
    page.paste(bars, (qr.width + 80, 60))
    assert [c.text for c in decode_image(page).codes] == [text]


@pytest.mark.parametrize("turn", [None, Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_270])
def test_bar_code_beside_a_matrix_code_is_read_whichever_way_the_label_faces(turn):
    qr = label_images.symbol("RE6LWUT4A5U", "qr_code", 6)
    # A retail code also has to be confirmed by a second read at the spot the first one reported.
    bars = label_images.symbol("4006381333931", "ean_13", 3, bar_height=150)
    # Blank paper above and left of the label keeps the codes off-centre, so a misplaced position shows.
    page = Image.new("L", (qr.width + bars.width + 560, max(qr.height, bars.height) + 620), 255)
    page.paste(qr, (440, 560))
    page.paste(bars, (qr.width + 500, 560))
    photo = page.transpose(turn) if turn else page
    result = decode_photo(jpeg_bytes(photo))
    assert {(c.text, c.format) for c in result.codes} == {("RE6LWUT4A5U", "qr_code"), ("4006381333931", "ean_13")}


def test_two_codes_on_a_large_photo_are_both_found():
    case = gen_label("dm_gs1+code128_native", seed=5, size=label_images.BIG, difficulty=0.3)
    assert {c.text for c in decode_photo(case.photo).codes} == case.expected


@pytest.mark.parametrize("pattern", label_images.CODE_FREE_PATTERNS)
def test_photo_without_code_returns_nothing_and_a_hint(pattern):
    case = label_images.code_free_photo(pattern, "test", (900, 700))
    result = decode_photo(case.photo)
    assert result.codes == []
    assert result.hint == NO_CODE_HINT


def test_large_photo_without_code_returns_nothing_and_a_hint():
    case = label_images.code_free_photo("grid_table", "test", label_images.BIG)
    assert decode_photo(case.photo) == DecodeResult([], NO_CODE_HINT)


def test_dark_photo_gets_a_hint_about_light():
    rng = np.random.default_rng(1)
    dark = Image.fromarray(rng.normal(20, 5, (600, 800)).clip(0, 255).astype(np.uint8))
    assert decode_photo(jpeg_bytes(dark)) == DecodeResult([], DARK_HINT)


def test_sixteen_bit_png_is_read():
    qr = label_images.symbol("RE6LWUT4A5U", "qr_code", 8)
    page = Image.new("L", (qr.width + 100, qr.height + 100), 255)
    page.paste(qr, (50, 50))
    buf = io.BytesIO()
    Image.fromarray(np.asarray(page).astype(np.uint16) * 200).save(buf, "PNG")
    assert [c.text for c in decode_photo(buf.getvalue()).codes] == ["RE6LWUT4A5U"]


def test_transparent_png_is_read_on_white():
    qr = label_images.symbol("RE6LWUT4A5U", "qr_code", 8)
    rgba = Image.new("RGBA", (qr.width + 100, qr.height + 100), (0, 0, 0, 0))
    ink = Image.new("RGBA", qr.size, (0, 0, 0, 255))
    rgba.paste(ink, (50, 50), ImageOps.invert(qr))
    buf = io.BytesIO()
    rgba.save(buf, "PNG")
    assert [c.text for c in decode_photo(buf.getvalue()).codes] == ["RE6LWUT4A5U"]


def test_exif_rotated_jpeg_is_turned_upright_and_decodes():
    upright, expected = gen_upright_label()
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    data = jpeg_bytes(upright.transpose(Image.Transpose.ROTATE_90), exif=exif.tobytes())
    opened = open_photo(data)
    assert opened.size == upright.size
    diff = np.abs(np.asarray(opened, np.int16) - np.asarray(upright.convert("L"), np.int16))
    assert diff.mean() < 4
    assert {c.text for c in decode_photo(data).codes} == expected


def test_broken_exif_is_ignored_not_fatal():
    upright, expected = gen_upright_label()
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Camera"
    # Retag Make as XResolution (a number) while keeping its text value: Pillow's own exif_transpose chokes on it.
    broken = exif.tobytes().replace(b"\x01\x0f\x00\x02", b"\x01\x1a\x00\x02")
    data = jpeg_bytes(upright.transpose(Image.Transpose.ROTATE_90), exif=broken)
    with pytest.raises(Exception):
        ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    assert open_photo(data).size == upright.size
    assert {c.text for c in decode_photo(data).codes} == expected
    garbage = jpeg_bytes(upright, exif=b"Exif\x00\x00not a tiff header")
    assert {c.text for c in decode_photo(garbage).codes} == expected


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, this is not a photo", b"%PDF-1.7\n" + b"0" * 100, b"GIF89a" + b"\x00" * 50],
    ids=["empty", "text", "pdf", "gif"],
)
def test_non_image_bytes_are_unsupported(data):
    with pytest.raises(PhotoError) as err:
        decode_photo(data)
    assert err.value.code == "unsupported_image"
    assert err.value.message


def test_other_image_formats_are_unsupported_even_when_valid():
    buf = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buf, "BMP")
    with pytest.raises(PhotoError) as err:
        decode_photo(buf.getvalue())
    assert err.value.code == "unsupported_image"


def test_truncated_jpeg_is_broken():
    data = gen_label("qr_native").photo
    with pytest.raises(PhotoError) as err:
        decode_photo(data[: len(data) // 2])
    assert err.value.code == "broken_image"


def test_corrupt_png_is_broken():
    buf = io.BytesIO()
    Image.new("L", (200, 200), 128).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    data[60:80] = b"\xff" * 20
    with pytest.raises(PhotoError) as err:
        decode_photo(bytes(data))
    assert err.value.code == "broken_image"


@pytest.mark.parametrize("size, max_pixels", [((20_000, 20_000), 60_000_000), ((20_000, 20_000), 10**9), ((9_000, 8_000), 60_000_000)])
def test_decompression_bomb_is_refused_before_decoding(size, max_pixels):
    data = bomb_png(*size)
    assert len(data) < 1_000_000
    started = time.perf_counter()
    with pytest.raises(PhotoError) as err:
        decode_photo(data, max_pixels=max_pixels)
    assert err.value.code == "image_too_large"
    assert time.perf_counter() - started < 0.5


def test_big_photo_is_downscaled_for_speed():
    big = Image.new("RGB", (4000, 3000), "white")
    assert max(open_photo(jpeg_bytes(big)).size) <= 2000


def test_a_one_pixel_photo_decodes_to_nothing_without_failing():
    from io import BytesIO

    from PIL import Image

    from inspector.codes.photos import decode_photo

    for size in ((1, 1), (1, 40), (40, 1)):
        out = BytesIO()
        Image.new("L", size, 255).save(out, "PNG")
        result = decode_photo(out.getvalue(), 60_000_000)
        assert result.codes == [] and result.hint
