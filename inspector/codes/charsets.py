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
    """zbar's bytes as text: it hands QR text over as UTF-8 already, other symbols as bytes in their own charset."""
    # Shift_JIS and GB 18030 both accept most byte strings, so they come after strict UTF-8, Latin-1 last.
    for encoding in ("utf-8", "shift_jis", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")
