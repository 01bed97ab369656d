"""Texts in every charset a label may carry come out of a photo as the characters printed, not mojibake."""
import io

import numpy as np
import pytest
import segno
import zxingcpp
from PIL import Image

from inspector.codes.photos import decode_photo


def qr_photo(text, **options):
    """A regular QR symbol made by segno, as PNG bytes, the way a phone sees a clean label."""
    buffer = io.BytesIO()
    segno.make(text, micro=False, **options).save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()


def texts(data):
    return [code.text for code in decode_photo(data).codes]


@pytest.mark.parametrize(
    "text, options",
    [
        ("MECARD:N:測試;;", {"encoding": "utf-8"}),  # UTF-8 without an ECI, as most phone generators write it
        ("MECARD:N:測試;;", {"encoding": "utf-8", "eci": True}),
        ("稀土检验 批次", {"encoding": "gb18030", "eci": True}),
        ("稀土检验 批次", {"encoding": "gb18030"}),  # GB 18030 without an ECI, common on Chinese labels
        ("稀土检验", {"encoding": "gbk"}),
        ("点検ラベル", {"mode": "kanji"}),  # QR's own Kanji mode, Shift_JIS underneath
        ("点検ラベル", {"encoding": "shift_jis"}),
        ("Grüße €", {"encoding": "iso-8859-15", "eci": True}),
        ("Привет", {"encoding": "cp1251", "eci": True}),
        ("Ünïcödé", {"encoding": "latin-1"}),  # the QR default charset, no ECI
    ],
)
def test_qr_text_reads_in_its_own_charset(text, options):
    assert texts(qr_photo(text, **options)) == [text]


def test_utf8_data_matrix_reads_as_written():
    symbol = zxingcpp.create_barcode("稀土 Grüße", zxingcpp.BarcodeFormat.DataMatrix).to_image(scale=6)
    pixels = np.pad(np.asarray(symbol), 30, constant_values=255)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    assert texts(buffer.getvalue()) == ["稀土 Grüße"]


def test_gs1_text_keeps_its_separators_as_bracketed_hri():
    # zxing-cpp's default text pictures the group separator; the service needs the element string itself.
    symbol = zxingcpp.create_barcode("(01)09506000134352(10)AB12(21)X9", zxingcpp.BarcodeFormat.DataMatrix, options="gs1")
    pixels = np.pad(np.asarray(symbol.to_image(scale=6)), 30, constant_values=255)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    assert texts(buffer.getvalue()) == ["(01)09506000134352(10)AB12(21)X9"]


ZBAR_CASES = [
    ("MECARD:N:測試;;", {"encoding": "utf-8"}),
    ("MECARD:N:測試;;", {"encoding": "utf-8", "eci": True}),
    ("稀土检验 批次", {"encoding": "gb18030", "eci": True}),
    ("稀土检验 批次", {"encoding": "gb18030"}),
    ("稀土检验", {"encoding": "gbk"}),
    ("点検ラベル", {"mode": "kanji"}),
    ("点検ラベル", {"encoding": "shift_jis"}),
    ("Grüße €", {"encoding": "iso-8859-15", "eci": True}),
    ("Ünïcödé", {"encoding": "latin-1"}),
]


@pytest.mark.parametrize("text, options", ZBAR_CASES)
def test_zbar_reads_qr_text_in_its_own_charset(text, options):
    # The fallback that asks zbar gets the symbol's bytes (binary mode) and guesses the charset itself: zbar's own
    # guess turns UTF-8 and GB 2312 without an ECI into Shift_JIS mojibake.
    from pyzbar.pyzbar import ZBarSymbol

    from inspector.codes.photos import _zbar_scan

    pixels = np.asarray(Image.open(io.BytesIO(qr_photo(text, **options))).convert("L"))
    assert [code.text for code, _ in _zbar_scan(pixels, 1, [ZBarSymbol.QRCODE])] == [text]


@pytest.mark.parametrize("raw, text", [
    ("Grüße".encode("latin-1"), "Grüße"),  # Latin-1 is not taken for Shift_JIS half-width katakana
    ("批次".encode("gb18030"), "批次"),
    ("ラベル".encode("shift_jis"), "ラベル"),
    (b"RE6LWUT4A5U", "RE6LWUT4A5U"),
])
def test_zbar_bytes_charset_guess(raw, text):
    from inspector.codes.charsets import zbar_text

    assert zbar_text(raw) == text
