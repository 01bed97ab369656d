"""A decoded symbol's bytes as the text printed: each decoder's own charset handling, and where it guesses wrong."""


def zxing_text(barcode) -> str:
    """zxing-cpp's text, except that GB 2312 bytes it took for Latin-1 read as Chinese."""
    # With no ECI zxing-cpp guesses the charset and never guesses GB 2312, which Chinese labels often carry
    # unmarked; Latin-1 text almost never forms only GB 2312 byte pairs. Any other charset it chose stands.
    if barcode.text == barcode.bytes.decode("latin-1") and _gb2312_pairs(barcode.bytes):
        return barcode.bytes.decode("gb18030")
    return barcode.text


def _gb2312_pairs(raw: bytes) -> bool:
    """Whether every non-ASCII byte pairs up as a GB 2312 character, and there is at least one, not also UTF-8."""
    try:
        raw.decode("utf-8")
        return False
    except UnicodeDecodeError:
        pass
    index, pairs = 0, 0
    while index < len(raw):
        if raw[index] < 0x80:
            index += 1
            continue
        if not (0xA1 <= raw[index] <= 0xF7 and index + 1 < len(raw) and 0xA1 <= raw[index + 1] <= 0xFE):
            return False
        index, pairs = index + 2, pairs + 1
    return pairs > 0


def zbar_text(raw: bytes) -> str:
    """zbar's bytes as text. zbar hands QR bytes over unconverted (binary mode; its own conversion takes UTF-8 and
    GB 2312 without an ECI for Shift_JIS), other symbols' bytes as they are: UTF-8 when they are strict UTF-8,
    then GB 2312 or Shift_JIS when every non-ASCII byte pairs up as one of their characters, else Latin-1 (the
    QR default). zbar keeps no ECI but UTF-8's and ISO 8859's, so a Cyrillic ECI text, say, is lost here; zxing-cpp
    reads it right."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _gb2312_pairs(raw):
        return raw.decode("gb18030")
    if _shift_jis_pairs(raw):
        return raw.decode("shift_jis")
    return raw.decode("latin-1")


def _shift_jis_pairs(raw: bytes) -> bool:
    """Whether every non-ASCII byte is half of a Shift_JIS double-byte character (no half-width katakana)."""
    index = 0
    while index < len(raw):
        if raw[index] < 0x80:
            index += 1
            continue
        lead, trail = raw[index], raw[index + 1] if index + 1 < len(raw) else 0
        if not ((0x81 <= lead <= 0x9F or 0xE0 <= lead <= 0xEF) and (0x40 <= trail <= 0x7E or 0x80 <= trail <= 0xFC)):
            return False
        index += 2
    try:
        raw.decode("shift_jis")
    except UnicodeDecodeError:
        return False
    return True
