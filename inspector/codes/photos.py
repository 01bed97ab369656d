"""Find every code in an inspector's photo: open it safely, then read it with zxing-cpp and zbar.

Both decoders sit behind one interface and their results are normalised so they agree: GS1 symbols
become bracketed HRI text "(01)...(10)...", UPC-A is reported as its 12 digits, and only the
symbologies printed on our labels are accepted, each with a plausibility check, so that textures
and printed patterns never produce a code.
"""
from __future__ import annotations

import ctypes
import io
import math
import warnings
from dataclasses import dataclass

import numpy as np
import zxingcpp
from biip.checksums import gs1_standard_check_digit
from biip.gs1_messages import GS1Message
from PIL import Image, ImageFilter, ImageOps
from pyzbar import wrapper as zbar

from inspector.codes import charsets
from inspector.errors import DomainError

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
_PHOTO_SIDE = "inspector.photo_side"  # Image.info key: the longest side the photo had in its file
WORKING_SIDE = 2000
NO_CODE_HINT = "No code found: move closer, avoid glare, or type the code."

DARK_HINT = "No code found: the photo is too dark; turn on a light or the flash, or type the code."

_ZX = zxingcpp.BarcodeFormat
_PLAIN = zxingcpp.TextMode.Plain
_ZXING_NAMES = {_ZX.QRCode: "qr_code", _ZX.DataMatrix: "data_matrix", _ZX.Code128: "code_128", _ZX.EAN13: "ean_13",
                _ZX.EAN8: "ean_8", _ZX.UPCA: "upc_a"}
# Searching for QRCode would also hunt Micro QR and rMQR symbols, which no label carries; hits still report QRCode.
_ZXING_MATRIX = [_ZX.QRCodeModel1, _ZX.QRCodeModel2, _ZX.DataMatrix]
_ZXING_LINEAR = [_ZX.Code128, _ZX.EAN13, _ZX.EAN8, _ZX.UPCA]
_ZXING_ALL = _ZXING_MATRIX + _ZXING_LINEAR
_ZXING_RETAIL = [_ZX.EAN13, _ZX.EAN8, _ZX.UPCA]
_RETAIL_NAMES = {"ean_13", "ean_8", "upc_a"}
_LINEAR_NAMES = _RETAIL_NAMES | {"code_128", "gs1_128"}
_ZBAR_NAMES = {zbar.ZBarSymbol.QRCODE: "qr_code", zbar.ZBarSymbol.CODE128: "code_128", zbar.ZBarSymbol.EAN13: "ean_13",
               zbar.ZBarSymbol.EAN8: "ean_8", zbar.ZBarSymbol.UPCA: "upc_a"}
_ZBAR_RETAIL_AND_128 = [zbar.ZBarSymbol.EAN13, zbar.ZBarSymbol.EAN8, zbar.ZBarSymbol.UPCA, zbar.ZBarSymbol.CODE128]
_ZBAR_RETAIL = [zbar.ZBarSymbol.EAN13, zbar.ZBarSymbol.EAN8, zbar.ZBarSymbol.UPCA]
_ZBAR_MOD_GS1 = 1  # bit 0 of zbar_symbol_get_modifiers(): FNC1 in first position
_ZBAR_CFG_X_DENSITY, _ZBAR_CFG_Y_DENSITY, _ZBAR_CFG_BINARY = 0x100, 0x101, 4
# A Code 128 read this short on a photo is far more likely a texture than a label.
_MIN_CODE128_LENGTH = 4
# zbar's quality counts the scan lines that agreed; on the real photos, bars read by fewer than 8 lines (at
# density 1) were misreads 2 times in 3.
_MIN_ZBAR_LINES = 8


class PhotoError(DomainError, ValueError):
    """A photo the service cannot read."""

    def __init__(self, code: str, message: str):
        super().__init__(message, code=code, kind="unsupported" if code == "unsupported_image" else "invalid")


@dataclass(frozen=True)
class FoundCode:
    """One code read from a photo."""

    text: str
    format: str
    gs1: bool


@dataclass(frozen=True)
class DecodeResult:
    """Every code found in a photo, and a hint for the inspector when there is none."""

    codes: list[FoundCode]
    hint: str | None


# --- opening photos -------------------------------------------------------------------------------

def open_photo(data: bytes, max_pixels: int = 60_000_000) -> Image.Image:
    """Open JPEG, PNG or WebP bytes as an upright grayscale image no longer than WORKING_SIDE, or raise PhotoError."""
    with warnings.catch_warnings():
        # PIL only warns below 2 * MAX_IMAGE_PIXELS; we want a refusal, never a warning.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_large(max_pixels) from None
        except Exception:
            raise PhotoError("unsupported_image", "This file is not a photo we can read: send a JPEG, PNG or WebP.") from None
        width, height = image.size
        if width * height > max_pixels:
            raise _too_large(max_pixels)
        if width < 1 or height < 1:
            raise _broken()
        try:
            if image.format == "JPEG":
                # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: far faster and lighter than a full decode.
                scale = max(width, height) / WORKING_SIDE
                if scale >= 2:
                    image.draft("L", (round(width / scale), round(height / scale)))
            image.load()
            gray = _to_gray(image)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_large(max_pixels) from None
        except Exception:
            raise _broken() from None
    upright = _upright(_fit(gray, WORKING_SIDE), image)
    # How far the photo was shrunk decides which fallbacks are worth their time.
    upright.info[_PHOTO_SIDE] = max(width, height)
    return upright


def _too_large(max_pixels: int) -> PhotoError:
    return PhotoError("image_too_large", f"This photo has more than {max_pixels // 1_000_000} million pixels: send a smaller one.")


def _broken() -> PhotoError:
    return PhotoError("broken_image", "This photo is damaged or incomplete: take it again.")


def _to_gray(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels often hold black: put the picture on white paper first.
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, rgba)
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        return ImageOps.autocontrast(image.convert("I").point(lambda v: v / 256).convert("L"))
    return image if image.mode == "L" else image.convert("L")


def _fit(gray: Image.Image, side: int) -> Image.Image:
    longest = max(gray.size)
    if longest <= side:
        return gray
    if longest % side == 0:
        # An exact integer factor (a 12-MP photo drafted to 2000 px, say): box reduction is several times faster.
        return gray.reduce(longest // side)
    scale = side / longest
    return gray.resize((max(1, round(gray.width * scale)), max(1, round(gray.height * scale))), Image.BILINEAR, reducing_gap=2.0)


def _upright(gray: Image.Image, original: Image.Image) -> Image.Image:
    # EXIF is read from the original file; a broken EXIF block only costs the rotation.
    try:
        orientation = original.getexif().get(0x0112, 1)
        method = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                  4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
                  6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
                  8: Image.Transpose.ROTATE_90}.get(int(orientation))
    except Exception:
        return gray
    return gray.transpose(method) if method is not None else gray


# --- decoding -------------------------------------------------------------------------------------

def decode_photo(data: bytes, max_pixels: int = 60_000_000) -> DecodeResult:
    """Open the photo bytes and return every code found in it (PhotoError when the photo is unreadable)."""
    return decode_image(open_photo(data, max_pixels))


def decode_image(image: Image.Image) -> DecodeResult:
    """Return every code found in an already opened image."""
    photo_side = image.info.get(_PHOTO_SIDE, max(image.size))
    gray = _fit(_to_gray(image) if image.mode != "L" else image, WORKING_SIDE)
    views = _Views(gray)
    # Matrix codes read well on the small view; bars need full resolution across them, so the full view.
    reads = _read_zxing(views, "small", formats=_ZXING_MATRIX, try_rotate=True)
    reads += _read_linear(views, [read.angle for read in reads])
    if all(read.code.format in _RETAIL_NAMES for read in reads):
        # zxing-cpp's own defaults (inverted codes, its pyramid) read many real photos the passes above miss;
        # on a big photo they read the 1000-px view, four times fewer pixels than the full one.
        reads += _read_defaults(views, "small")
        if not reads and max(gray.size) < _SMALL_PHOTO_SIDE:
            reads = _read_defaults(views, "enlarged")
    if max(gray.size) <= _ZBAR_SIDE and (not reads or all(read.code.format in _RETAIL_NAMES for read in reads)):
        # zbar reads curved and blurred retail codes zxing-cpp misses, and confirms the ones it read. On bigger
        # photos it costs 40-100 ms and the fallbacks below already hold it.
        reads += _read_zbar(views, "full", density=1, symbologies=_ZBAR_RETAIL_AND_128)
    if not reads:
        reduced = photo_side >= 2 * max(gray.size)
        for view, reader, options in _REDUCED_PHOTO_FALLBACKS if reduced else _FALLBACK_PASSES:
            if view == "doubled" and max(gray.size) > _SMALL_PHOTO_SIDE * 2:
                continue
            reads += reader(views, view, **options)
            if reads:
                break
    codes = _accepted(reads, views)
    return DecodeResult(codes, None if codes else _hint(gray))


def _read_linear(views: _Views, matrix_angles: list[float]) -> list[_Read]:
    """Read bar codes on the full view, scanning only across the bars a label prints square to its matrix codes."""
    directions = [_across(angle) for angle in matrix_angles] or [(True, True)]
    reads = []
    if any(rows for rows, _ in directions):
        reads += _read_zxing(views, "rows", formats=_ZXING_LINEAR, try_rotate=False)
    if any(columns for _, columns in directions):
        reads += _read_zxing(views, "turned", formats=_ZXING_LINEAR, try_rotate=False)
    return reads


def _hint(gray: Image.Image) -> str:
    if np.asarray(_fit(gray, 200)).mean() < 45:
        return DARK_HINT
    return NO_CODE_HINT


@dataclass(frozen=True)
class _Read:
    code: FoundCode
    source: str
    view: str
    box: tuple[int, int, int, int]  # left, top, right, bottom in the view's pixels
    angle: float | None = None  # degrees, as zxing-cpp reports the symbol's orientation; zbar does not say


class _Views:
    """The working image and the variants the passes read, each made once and only when asked for."""

    def __init__(self, gray: Image.Image):
        self._images = {"full": gray}
        self._pixels: dict[str, np.ndarray] = {}

    def image(self, name: str) -> Image.Image:
        if name not in self._images:
            self._images[name] = _VIEW_MAKERS[name](self)
        return self._images[name]

    def pixels(self, name: str) -> np.ndarray:
        if name not in self._pixels:
            if name in _PIXEL_MAKERS:
                self._pixels[name] = _PIXEL_MAKERS[name](self.pixels("full"))
            else:
                self._pixels[name] = np.asarray(self.image(name))
        return self._pixels[name]


def _local_contrast(gray: Image.Image, block: int = 32) -> Image.Image:
    """Divide out slow light changes and stretch each neighbourhood's contrast (glare, shadows, dim photos)."""
    pixels = np.asarray(gray, np.float32)
    small = (max(1, gray.width // block), max(1, gray.height // block))
    mean = np.asarray(gray.resize(small, Image.BOX).resize(gray.size, Image.BILINEAR), np.float32)
    square = Image.fromarray(pixels * pixels / 255, "F").resize(small, Image.BOX).resize(gray.size, Image.BILINEAR)
    spread = np.sqrt(np.maximum(np.asarray(square, np.float32) * 255 - mean * mean, 64))
    return Image.fromarray(np.clip((pixels - mean) / spread * 50 + 128, 0, 255).astype(np.uint8))


# zxing-cpp misses symbols whose modules are a pixel or two wide; on photos this small, enlarging them finds most.
_SMALL_PHOTO_SIDE = 400
_ZBAR_SIDE = 1000


def _enlarged(gray: Image.Image) -> Image.Image:
    factor = math.ceil(2 * _SMALL_PHOTO_SIDE / max(gray.size))
    return gray.resize((gray.width * factor, gray.height * factor), Image.BICUBIC)


_VIEW_MAKERS = {
    "enlarged": lambda v: _enlarged(v.image("full")),
    "small": lambda v: _fit(v.image("full"), 1000),
    "1400": lambda v: _fit(v.image("full"), 1400),
    "sharp": lambda v: v.image("1400").filter(ImageFilter.UnsharpMask(radius=2, percent=150, threshold=2)),
    "contrast": lambda v: _local_contrast(v.image("1400")),
    "doubled": lambda v: v.image("full").resize((v.image("full").width * 2, v.image("full").height * 2), Image.BICUBIC)
    .filter(ImageFilter.UnsharpMask(radius=3, percent=200, threshold=2)),
}


def _row_pairs(pixels: np.ndarray) -> np.ndarray:
    """Average each pair of rows: upright bars lose nothing, noise drops, and a row scan costs half."""
    even = pixels.shape[0] // 2 * 2
    return ((pixels[0:even:2].astype(np.uint16) + pixels[1:even:2]) >> 1).astype(np.uint8)


# Bar passes scan rows only: "rows" for bars standing upright in the photo, "turned" (a quarter turn
# counter-clockwise first) for bars lying down.
_PIXEL_MAKERS = {
    "rows": _row_pairs,
    "turned": lambda pixels: _row_pairs(np.ascontiguousarray(np.rot90(pixels))),
}


def _read_defaults(views: _Views, view: str) -> list[_Read]:
    """zxing-cpp with its own defaults: every direction, inverted codes and its own pyramid."""
    return _read_zxing(views, view, formats=_ZXING_ALL, source=f"zxing/defaults/{view}",
                       try_invert=True, try_downscale=True, try_rotate=True)


def _read_zxing(views: _Views, view: str, formats=None, source: str | None = None, **options) -> list[_Read]:
    options.setdefault("try_invert", False)
    # Plain: the text in its own charset (ECI, UTF-8, Shift_JIS, GB 18030) with control characters kept, not pictured.
    options.setdefault("text_mode", _PLAIN)
    # zxing-cpp's own pyramid repeats what the views already cover.
    options.setdefault("try_downscale", False)
    pixels = views.pixels(view)
    if 0 in pixels.shape[:2]:  # a photo one pixel high has no pair of rows to scan
        return []
    reads = []
    for barcode in zxingcpp.read_barcodes(pixels, formats=formats or _ZXING_ALL, **options):
        fmt = _ZXING_NAMES.get(barcode.format)
        if fmt is None or not barcode.valid:
            continue
        gs1 = barcode.content_type == zxingcpp.ContentType.GS1
        code = _normalise(fmt, charsets.zxing_text(barcode), gs1)
        if code:
            pos = barcode.position
            corners = [(p.x, p.y) for p in (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)]
            where, angle = view, barcode.orientation
            # Back from the paired rows (of the quarter-turned view) to the full view's pixels.
            if view == "rows":
                corners, where = [(x, 2 * y) for x, y in corners], "full"
            elif view == "turned":
                width = views.pixels("full").shape[1]
                corners, where, angle = [(width - 1 - 2 * y, x) for x, y in corners], "full", angle + 90
            box = _box([x for x, _ in corners], [y for _, y in corners])
            reads.append(_Read(code, source or f"zxing/{options.get('binarizer', 'local')}", where, box, angle))
    return reads


def _box(xs, ys) -> tuple[int, int, int, int]:
    return min(xs), min(ys), max(xs) + 1, max(ys) + 1


_zbar_modifiers = zbar.zbar_function("zbar_symbol_get_modifiers", ctypes.c_uint, ctypes.POINTER(zbar.zbar_symbol))


def _read_zbar(views: _Views, view: str, density: int = 1, symbologies=None) -> list[_Read]:
    pixels = views.pixels(view)
    return [_Read(code, "zbar", view, box) for code, box in _zbar_scan(pixels, density, symbologies or _ZBAR_NAMES)]


def _zbar_scan(pixels: np.ndarray, density: int, symbologies, rows: bool = True,
               columns: bool = True) -> list[tuple[FoundCode, tuple[int, int, int, int]]]:
    """zbar on 8-bit pixels, scanning every density-th row and/or column."""
    height, width = pixels.shape
    data = np.ascontiguousarray(pixels).tobytes()
    found = []
    scanner = zbar.zbar_image_scanner_create()
    image = zbar.zbar_image_create()
    try:
        zbar.zbar_image_scanner_set_config(scanner, zbar.ZBarSymbol.NONE, zbar.ZBarConfig.CFG_ENABLE, 0)
        for symbology in symbologies:
            zbar.zbar_image_scanner_set_config(scanner, symbology, zbar.ZBarConfig.CFG_ENABLE, 1)
        # QR bytes as stored, not zbar's charset guess (charsets.zbar_text guesses better).
        zbar.zbar_image_scanner_set_config(scanner, zbar.ZBarSymbol.QRCODE, _ZBAR_CFG_BINARY, 1)
        # zbar's x density spaces its vertical scan lines (columns), its y density the horizontal ones (rows).
        zbar.zbar_image_scanner_set_config(scanner, zbar.ZBarSymbol.NONE, _ZBAR_CFG_X_DENSITY, density if columns else 0)
        zbar.zbar_image_scanner_set_config(scanner, zbar.ZBarSymbol.NONE, _ZBAR_CFG_Y_DENSITY, density if rows else 0)
        zbar.zbar_image_set_format(image, 0x30303859)  # 'Y800': 8-bit grayscale
        zbar.zbar_image_set_size(image, width, height)
        zbar.zbar_image_set_data(image, ctypes.cast(data, ctypes.c_void_p), len(data), None)
        if zbar.zbar_scan_image(scanner, image) > 0:
            symbol = zbar.zbar_image_first_symbol(image)
            while symbol:
                fmt = _ZBAR_NAMES.get(symbol.contents.type)
                if fmt and (fmt == "qr_code" or zbar.zbar_symbol_get_quality(symbol) * density >= _MIN_ZBAR_LINES):
                    raw = ctypes.string_at(zbar.zbar_symbol_get_data(symbol), zbar.zbar_symbol_get_data_length(symbol))
                    code = _normalise(fmt, charsets.zbar_text(raw), bool(_zbar_modifiers(symbol) & _ZBAR_MOD_GS1))
                    points = range(zbar.zbar_symbol_get_loc_size(symbol))
                    if code and points:
                        box = _box([zbar.zbar_symbol_get_loc_x(symbol, i) for i in points],
                                   [zbar.zbar_symbol_get_loc_y(symbol, i) for i in points])
                        found.append((code, box))
                symbol = zbar.zbar_symbol_next(symbol)
    finally:
        zbar.zbar_image_destroy(image)
        zbar.zbar_image_scanner_destroy(scanner)
    return found


def _accepted(reads: list[_Read], views: _Views) -> list[FoundCode]:
    """One code per text, in the order first read; retail codes only when a second, independent read agrees."""
    by_text: dict[str, list[_Read]] = {}
    for read in reads:
        by_text.setdefault(read.code.text, []).append(read)
    support = {text: len({(r.source, r.view) for r in group}) for text, group in by_text.items()}
    retail = [(read.code.text, _full_box(read, views)) for read in reads if read.code.format in _RETAIL_NAMES]
    codes = []
    for text, group in by_text.items():
        code = group[0].code
        if code.format in _RETAIL_NAMES:
            # Another retail number read at the same spot as often or more: one is a misread, so not this one.
            boxes = [_full_box(read, views) for read in group]
            if any(other != text and support[other] >= support[text] and _overlap(box, where)
                   for other, where in retail for box in boxes):
                continue
            if support[text] < 2 and not _confirmed(group[0], views):
                continue
        codes.append(code)
    return codes


def _full_box(read: _Read, views: _Views) -> tuple[int, int, int, int]:
    scale = views.image("full").width / views.image(read.view).width
    return tuple(round(edge * scale) for edge in read.box)


def _overlap(a, b) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _confirmed(read: _Read, views: _Views) -> bool:
    """Re-read a retail code's neighbourhood another way: its check digit alone lets misreads through."""
    # Crop from the full working image: a different sampling from the read's own view. Only an enlarged view shows
    # what zxing-cpp read there, so its reads are confirmed on it, with the other binarizer or zbar.
    own = read.view in ("enlarged", "doubled")
    full = views.image(read.view if own else "full")
    left, top, right, bottom = read.box if own else _full_box(read, views)
    if read.angle is None:
        # zbar reports only the middle of the scan lines it read (the bars' height, not the symbol's width, for
        # upright bars), so leave room for a symbol wider than its bars are tall on either side of the box.
        pad = max(right - left, bottom - top) * 3 // 2 + max(full.size) // 8
    else:
        # zxing-cpp's box spans the symbol from end to end: half its length again holds the quiet zones.
        pad = max(right - left, bottom - top) // 2 + 16
    # Clipped to the photo: beyond its edges crop() paints black, which reads as bars.
    pixels = np.asarray(full.crop((max(0, left - pad), max(0, top - pad), min(full.width, right + pad), min(full.height, bottom + pad))))
    seen = set()
    # No downscaled pyramid: its coarse copies of thin bars are where zxing-cpp misreads EAN digits.
    for barcode in zxingcpp.read_barcodes(pixels, formats=_ZXING_RETAIL, try_invert=False, try_downscale=False, text_mode=_PLAIN,
                                          binarizer=zxingcpp.Binarizer.GlobalHistogram):
        code = _normalise(_ZXING_NAMES[barcode.format], barcode.text, False) if barcode.valid else None
        if code:
            seen.add(code.text)
    if not seen:
        # zbar scans every line of the crop, many times slower: ask it only when zxing-cpp saw nothing here,
        # and only across the bars when their direction is known.
        rows, columns = _across(read.angle)
        seen = {code.text for code, _ in _zbar_scan(pixels, 1, _ZBAR_RETAIL, rows, columns)}
    # A different retail number in the same spot means one of the two is a misread: trust neither.
    return seen == {read.code.text}


def _across(angle: float | None) -> tuple[bool, bool]:
    """Whether rows or columns, whichever lie nearer across the bars of a symbol turned by angle degrees, read it."""
    if angle is None:
        return True, True
    radians = math.radians(angle)
    rows = abs(math.cos(radians)) >= abs(math.sin(radians))
    return rows, not rows


_GLOBAL = {"binarizer": zxingcpp.Binarizer.GlobalHistogram}
# Fallbacks run, in order, only while nothing is found (each stops the rest once it reads a code). The first pass
# already read bars on the full view with the local binarizer, so the full view's local pass looks for matrix codes.
_FALLBACK_PASSES = [
    ("1400", _read_zxing, {}),
    ("full", _read_zxing, _GLOBAL),
    ("full", _read_zxing, {"formats": _ZXING_MATRIX}),
    ("full", _read_zbar, {"density": 2}),
    ("sharp", _read_zxing, {}),
    ("contrast", _read_zxing, {}),
    # Small photos of blurred bars, twice as large and sharpened: 2 more retail codes of the real set, no misread.
    ("doubled", _read_zxing, {"formats": _ZXING_LINEAR}),
]
# A photo shrunk at least twice to the working size (a 12-MP one, say) has had its noise and blur averaged
# down: zbar, sharpening and evening out the light then almost never read what zxing-cpp could not (1 of
# 106 such labels across three generated sets), at some 150-250 ms a photo, so only more pixels are tried.
_REDUCED_PHOTO_FALLBACKS = [
    ("1400", _read_zxing, {}),
    ("full", _read_zxing, {"formats": _ZXING_MATRIX}),
]


# --- normalising ----------------------------------------------------------------------------------

def _normalise(fmt: str, raw: str, gs1: bool) -> FoundCode | None:
    """Turn one decoder read into a FoundCode both decoders agree on, or None when it is implausible."""
    if gs1:
        try:
            return FoundCode(GS1Message.parse(raw).as_hri(), "gs1_128" if fmt == "code_128" else fmt, True)
        except Exception:
            # Flagged GS1 but not a valid element string: still the code printed, so read it as plain text.
            gs1 = False
    if fmt in ("ean_13", "ean_8", "upc_a"):
        digits = raw
        if fmt == "ean_13" and len(digits) == 13 and digits.startswith("0"):
            fmt, digits = "upc_a", digits[1:]
        if fmt == "upc_a" and len(digits) == 13 and digits.startswith("0"):
            digits = digits[1:]
        expected_length = {"ean_13": 13, "ean_8": 8, "upc_a": 12}[fmt]
        if len(digits) != expected_length or not digits.isdigit() or not _gs1_check_digit_ok(digits):
            return None
        return FoundCode(digits, fmt, False)
    if fmt == "code_128" and len(raw.strip()) < _MIN_CODE128_LENGTH:
        return None
    if not raw:
        return None
    return FoundCode(raw, fmt, False)


def _gs1_check_digit_ok(digits: str) -> bool:
    return str(gs1_standard_check_digit(digits[:-1])) == digits[-1]
