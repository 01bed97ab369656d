"""Deterministic synthetic label photos (and code-free photos) for the decoding bench and tests.

Symbols come from zxing-cpp's writer; everything else (card, bag, damage) is drawn here with a fixed
seed, so the same call always returns byte-identical images.
"""
from __future__ import annotations

import io
import random
from typing import NamedTuple

import numpy as np
import zxingcpp
from biip.checksums import gs1_standard_check_digit
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from inspector.codes import batch_code

SEED = 20_250_611
BIG = (4000, 3000)
_SIZES = [(1280, 960), (1600, 1200), (1920, 1080), (1080, 1920), (2000, 1500), (1200, 1600)]
_F = zxingcpp.BarcodeFormat
_MATRIX = {"qr_code": _F.QRCode, "data_matrix": _F.DataMatrix}
_LINEAR = {"code_128": _F.Code128, "gs1_128": _F.Code128, "ean_13": _F.EAN13, "ean_8": _F.EAN8, "upc_a": _F.UPCA}

# What each label carries: a list of (symbology, content kind).
KINDS = {
    "qr_native": [("qr_code", "native")],
    "code128_native": [("code_128", "native")],
    "dm_gs1": [("data_matrix", "gs1")],
    "qr_gs1": [("qr_code", "gs1")],
    "gs1_128": [("gs1_128", "gs1")],
    "ean_13": [("ean_13", "ean13")],
    "qr_native+dm_gs1": [("qr_code", "native"), ("data_matrix", "gs1")],
    "gs1_128+qr_native": [("gs1_128", "gs1_short"), ("qr_code", "native")],
    "dm_gs1+code128_native": [("data_matrix", "gs1"), ("code_128", "native")],
    "ean_8": [("ean_8", "ean8")],
    "upc_a": [("upc_a", "upca")],
}
_KIND_CYCLE = [
    "qr_native", "dm_gs1", "code128_native", "gs1_128", "qr_gs1", "qr_native+dm_gs1", "ean_13",
    "dm_gs1", "qr_native", "gs1_128+qr_native", "code128_native", "dm_gs1+code128_native", "ean_8", "upc_a",
]


class LabelImage(NamedTuple):
    """One bench case: a name, the photo (PIL image or encoded bytes) and the texts a reader must return."""

    name: str
    photo: Image.Image | bytes
    expected: frozenset[str]


# --- contents -------------------------------------------------------------------------------------

def gs1_check_digit(digits: str) -> str:
    """Mod-10 check digit of a GS1 key (GTIN, GLN...) given without its check digit."""
    return str(gs1_standard_check_digit(digits))


def random_gtin(rng: random.Random, length: int = 14) -> str:
    """A random GTIN of the given length with a valid check digit."""
    body = "".join(rng.choice("0123456789") for _ in range(length - 1))
    if length == 14:
        body = "0" + body[1:]
    return body + gs1_check_digit(body)


def random_lot(rng: random.Random) -> str:
    """A lot number like the ones printed by bagging lines."""
    return "L" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(rng.randint(4, 9)))


def content_for(kind: str, rng: random.Random) -> tuple[str, str]:
    """Return (text to encode, text a reader must report) for a content kind."""
    if kind == "native":
        code = batch_code.issue(rng)
        return code, code
    if kind in ("gs1", "gs1_short"):
        hri = f"(01){random_gtin(rng)}(10){random_lot(rng)}"
        if kind == "gs1" and rng.random() < 0.4:
            hri += f"(21){rng.randint(1, 999_999)}"
        return hri, hri
    if kind == "ean13":
        gtin = random_gtin(rng, 13)
        gtin = str(rng.randint(1, 9)) + gtin[1:12]
        gtin += gs1_check_digit(gtin)
        return gtin, gtin
    if kind == "ean8":
        gtin = random_gtin(rng, 8)
        return gtin, gtin
    if kind == "upca":
        gtin = random_gtin(rng, 12)
        return gtin, gtin
    raise ValueError(kind)


def symbol(text: str, symbology: str, module: float = 1.0, bar_height: float | None = None) -> Image.Image:
    """Render a symbol (grayscale, no quiet zone) with module size in pixels; GS1 when text is bracketed HRI."""
    fmt = _MATRIX.get(symbology) or _LINEAR[symbology]
    gs1 = text.startswith("(")
    barcode = zxingcpp.create_barcode(text, fmt, gs1=True) if gs1 else zxingcpp.create_barcode(text, fmt)
    raw = Image.fromarray(np.array(zxingcpp.write_barcode_to_image(barcode, scale=1, add_quiet_zones=False)))
    width = max(1, round(raw.width * module))
    if symbology in _MATRIX:
        height = max(1, round(raw.height * module))
        resample = Image.NEAREST if module == int(module) else Image.BOX
        return raw.convert("L").resize((width, height), resample)
    height = round(bar_height if bar_height else max(30, width * 0.3))
    row = raw.convert("L").crop((0, 0, raw.width, 1))
    return row.resize((width, 1), Image.BOX).resize((width, height), Image.NEAREST)


# --- drawing helpers ------------------------------------------------------------------------------

def _font(size: float) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=max(6, round(size)))


def _lines_of_text(rng: random.Random) -> list[str]:
    words = ["RARE EARTH OXIDE", "NdPr OXIDE 99.5%", "NET 25 kg", "Dy2O3", "Tb4O7 99.99%", "LOT", "BAOTOU",
             "Keep dry", "UN 3077", "GROSS 25.3 kg", "MADE IN", "CeO2", "La2O3", "Y2O3 99.999%", "Batch"]
    return [" ".join(rng.sample(words, rng.randint(1, 3))) for _ in range(rng.randint(2, 5))]


def label_card(rng: random.Random, symbols: list[Image.Image], module: float) -> Image.Image:
    """A printed label card holding the symbols side by side, with text lines and a border."""
    quiet = round(max(10 * module, 12))
    text_size = max(8.0, module * 3.2)
    lines = _lines_of_text(rng)
    text_h = round(len(lines) * text_size * 1.35)
    sym_w = sum(s.width for s in symbols) + quiet * (len(symbols) + 1)
    sym_h = max(s.height for s in symbols) + 2 * quiet
    width = max(sym_w, round(text_size * 14)) + 2 * quiet
    height = sym_h + text_h + 2 * quiet
    paper = tuple(rng.randint(225, 255) for _ in range(3))
    card = Image.new("RGB", (width, height), paper)
    draw = ImageDraw.Draw(card)
    ink = tuple(rng.randint(0, 40) for _ in range(3))
    border = max(1, round(module * 0.6))
    draw.rectangle((border, border, width - 1 - border, height - 1 - border), outline=ink, width=border)
    y = quiet
    font = _font(text_size)
    for line in lines:
        draw.text((quiet * 1.5, y), line, fill=ink, font=font)
        y += text_size * 1.35
    x = (width - sym_w) // 2 + quiet
    top = quiet + text_h + quiet
    for sym in symbols:
        coloured = Image.merge("RGB", [sym.point(lambda v, c=c, p=p: c + (p - c) * v // 255) for c, p in zip(ink, paper)])
        card.paste(coloured, (x, top + (sym_h - 2 * quiet - sym.height) // 2))
        x += sym.width + quiet
    return card


def _perspective_coeffs(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> list[float]:
    # PIL maps each output pixel (dst) back to the input (src).
    rows = []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    rhs = [c for pt in src for c in pt]
    return list(np.linalg.solve(np.array(rows, float), np.array(rhs, float)))


def crumple(card: Image.Image, rng: random.Random, strength: float) -> Image.Image:
    """Warp the card with a jittered mesh and shade it with creases, like a label on a crumpled bag."""
    w, h = card.size
    # Paper labels bend gently: a few pixels over a cell, never a module-by-module scramble.
    cells = 5
    jitter = strength * min(w, h) * 0.012
    grid = [[(w * i / cells + (rng.uniform(-jitter, jitter) if 0 < i < cells else 0),
              h * j / cells + (rng.uniform(-jitter, jitter) if 0 < j < cells else 0))
             for j in range(cells + 1)] for i in range(cells + 1)]
    mesh = []
    for i in range(cells):
        for j in range(cells):
            box = (round(w * i / cells), round(h * j / cells), round(w * (i + 1) / cells), round(h * (j + 1) / cells))
            quad = (*grid[i][j], *grid[i][j + 1], *grid[i + 1][j + 1], *grid[i + 1][j])
            mesh.append((box, quad))
    warped = card.transform(card.size, Image.MESH, mesh, Image.BILINEAR, fillcolor=card.getpixel((0, 0)))
    shade = Image.fromarray(_wrinkle_map(rng, (w, h), strength)).convert("RGB")
    return Image.fromarray((np.asarray(warped, np.uint16) * np.asarray(shade, np.uint16) // 255).astype(np.uint8))


def _wrinkle_map(rng: random.Random, size: tuple[int, int], strength: float) -> np.ndarray:
    """Grayscale multiply map (255 = no change): soft shading plus a few sharp creases."""
    w, h = size
    nrng = np.random.default_rng(rng.getrandbits(32))
    low = nrng.normal(0, 1, (5, 5)).astype(np.float32)
    base = np.asarray(Image.fromarray(low, "F").resize((w, h), Image.BICUBIC))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    creases = np.zeros((h, w), np.float32)
    for _ in range(rng.randint(2, 6)):
        angle = rng.uniform(0, np.pi)
        offset = rng.uniform(-0.5, 0.5) * max(w, h)
        dist = (xx - w / 2) * np.cos(angle) + (yy - h / 2) * np.sin(angle) - offset
        width = rng.uniform(2, 12)
        creases += np.where(dist > 0, 1.0, -0.6) * np.exp(-np.abs(dist) / width)
    shade = 1.0 - strength * (0.12 * np.abs(base) + 0.2 * np.abs(creases))
    return (np.clip(shade, 0.35, 1.0) * 255).astype(np.uint8)


def bag_background(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """A woven polypropylene bag (or a plain surface) under uneven light, in RGB."""
    w, h = size
    nrng = np.random.default_rng(rng.getrandbits(32))
    # Texture is drawn at a lower resolution for big photos; the weave survives the upscale.
    factor = 2 if w * h > 4_000_000 else 1
    tw, th = w // factor, h // factor
    colour = rng.choice([(235, 235, 228), (210, 200, 170), (70, 110, 170), (200, 200, 205), (120, 150, 110), (60, 60, 60)])
    pitch = rng.uniform(5, 14) / factor
    # Separable weave: tape parity and ripple along x and y, combined by broadcasting.
    x, y = np.arange(tw, dtype=np.float32), np.arange(th, dtype=np.float32)
    over = (np.floor(x / pitch).astype(np.int32) % 2)[None, :] ^ (np.floor(y / pitch).astype(np.int32) % 2)[:, None]
    ripple = np.sin(2 * np.pi * y / pitch)[:, None] * np.sin(2 * np.pi * x / pitch)[None, :]
    weave = 0.9 + 0.08 * over.astype(np.float32) + 0.04 * ripple
    if rng.random() < 0.3:
        weave = np.full((th, tw), 0.95, np.float32)
    weave += nrng.standard_normal((th, tw), dtype=np.float32) * 0.02
    light = np.asarray(Image.fromarray(nrng.normal(0, 1, (3, 4)).astype(np.float32), "F").resize((tw, th), Image.BICUBIC))
    weave *= 1.0 + 0.12 * light
    shade = Image.fromarray(np.clip(weave * 200, 0, 255).astype(np.uint8))
    rgb = np.stack([np.asarray(shade.point(lambda v, c=c: min(255, round(v * c / 200)))) for c in colour], axis=-1)
    img = Image.fromarray(rgb)
    return img.resize((w, h), Image.BILINEAR) if factor > 1 else img


def place(photo: Image.Image, card: Image.Image, rng: random.Random, angle: float, tilt: float) -> None:
    """Paste the card into the photo, rotated by angle degrees and tilted in perspective by up to tilt (0..0.3)."""
    w, h = card.size
    cx, cy = w / 2, h / 2
    rad = np.radians(angle)
    corners = [(0, 0), (w, 0), (w, h), (0, h)]
    dst = []
    for x, y in corners:
        x += rng.uniform(-tilt, tilt) * w
        y += rng.uniform(-tilt, tilt) * h
        dx, dy = x - cx, y - cy
        dst.append((dx * np.cos(rad) - dy * np.sin(rad), dx * np.sin(rad) + dy * np.cos(rad)))
    xs, ys = [p[0] for p in dst], [p[1] for p in dst]
    span_x, span_y = max(xs) - min(xs), max(ys) - min(ys)
    if span_x > photo.width or span_y > photo.height:
        shrink = min(photo.width / span_x, photo.height / span_y) * 0.95
        dst = [(x * shrink, y * shrink) for x, y in dst]
        xs, ys = [p[0] for p in dst], [p[1] for p in dst]
    ox = rng.uniform(-min(xs), photo.width - max(xs))
    oy = rng.uniform(-min(ys), photo.height - max(ys))
    left, top = int(np.floor(ox + min(xs))), int(np.floor(oy + min(ys)))
    right, bottom = int(np.ceil(ox + max(xs))), int(np.ceil(oy + max(ys)))
    local = [(x + ox - left, y + oy - top) for x, y in dst]
    coeffs = _perspective_coeffs(corners, local)
    size = (right - left, bottom - top)
    warped = card.transform(size, Image.PERSPECTIVE, coeffs, Image.BICUBIC)
    mask = Image.new("L", card.size, 255).transform(size, Image.PERSPECTIVE, coeffs, Image.BILINEAR)
    photo.paste(warped, (left, top), mask)


# --- damage ---------------------------------------------------------------------------------------

def add_glare(photo: Image.Image, rng: random.Random, strength: float) -> Image.Image:
    """Add a bright specular blob (screen blend) somewhere in the middle of the photo."""
    w, h = photo.size
    small = (max(8, w // 8), max(8, h // 8))
    yy, xx = np.mgrid[0:small[1], 0:small[0]].astype(np.float32)
    cx, cy = rng.uniform(0.25, 0.75) * small[0], rng.uniform(0.25, 0.75) * small[1]
    sx, sy = rng.uniform(0.05, 0.2) * small[0], rng.uniform(0.05, 0.2) * small[1]
    blob = np.exp(-(((xx - cx) / sx) ** 2 + ((yy - cy) / sy) ** 2) / 2) * strength
    blob_img = Image.fromarray((np.clip(blob, 0, 1) * 255).astype(np.uint8)).resize((w, h), Image.BILINEAR)
    from PIL import ImageChops

    return ImageChops.screen(photo, Image.merge("RGB", [blob_img] * 3))


def add_noise(photo: Image.Image, rng: random.Random, sigma: float) -> Image.Image:
    """Gaussian sensor noise, per channel."""
    nrng = np.random.default_rng(rng.getrandbits(32))
    arr = np.asarray(photo, np.int16)
    noise = nrng.normal(0, sigma, arr.shape[:2]).astype(np.int16)[..., None]
    return Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8))


def low_contrast(photo: Image.Image, amount: float, dark: bool) -> Image.Image:
    """Squeeze the tonal range towards a mid level (washed-out or dim photo)."""
    base = 60 if dark else 170
    return photo.point(lambda v: round(base + (v - base) * (1 - amount)))


def encode(photo: Image.Image, fmt: str = "JPEG", quality: int = 90, exif: bytes | None = None) -> bytes:
    """Encode as a camera would (JPEG by default)."""
    buf = io.BytesIO()
    kwargs = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    if exif is not None:
        kwargs["exif"] = exif
    photo.save(buf, fmt, **kwargs)
    return buf.getvalue()


# --- cases ----------------------------------------------------------------------------------------

def label_photo(kind: str, seed: int | str, size: tuple[int, int] = (1280, 960), difficulty: float = 0.5,
                fmt: str = "JPEG") -> LabelImage:
    """Build one label photo of the given kind; difficulty 0 is a clean, square-on shot."""
    rng = random.Random(f"{seed}/{kind}/{size}/{difficulty}")
    scale = max(size) / 1600
    d = difficulty
    module = rng.uniform(7 - 4.6 * d, 9 - 4 * d) * scale
    xdim = rng.uniform(2.6 - 1.2 * d, 3.6 - 1.4 * d) * scale
    symbols, expected = [], set()
    for symbology, content in KINDS[kind]:
        encoded, text = content_for(content, rng)
        expected.add(text)
        if symbology in _MATRIX:
            symbols.append(symbol(encoded, symbology, module))
        else:
            symbols.append(symbol(encoded, symbology, xdim, bar_height=rng.uniform(28, 70) * xdim))
    card = label_card(rng, symbols, min(module, xdim * 2.5))
    if rng.random() < d:
        card = crumple(card, rng, rng.uniform(0.3, 1.0) * d * 1.4)
    photo = bag_background(rng, size)
    angle = rng.choice([rng.uniform(-12, 12), rng.uniform(-45, 45) * d, rng.uniform(0, 360) * d, 90.0, 180.0])
    place(photo, card, rng, angle, tilt=rng.uniform(0, 0.2) * d)
    if rng.random() < 0.5 + d / 2:
        photo = photo.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.4 + 1.6 * d) * scale))
    if rng.random() < d * 0.6:
        photo = low_contrast(photo, rng.uniform(0.3, 0.8) * d + 0.1, dark=rng.random() < 0.5)
    if rng.random() < d * 0.5:
        photo = add_glare(photo, rng, rng.uniform(0.4, 0.95))
    if rng.random() < 0.3 + d * 0.6:
        photo = add_noise(photo, rng, rng.uniform(2, 4 + 12 * d))
    quality = rng.choice([92, 88, 80]) if rng.random() > d * 0.6 else rng.randint(18, 45)
    return LabelImage(f"{kind}-{seed}", encode(photo, fmt, quality), frozenset(expected))


def code_free_photo(pattern: str, seed: int | str, size: tuple[int, int] = (1280, 960)) -> LabelImage:
    """A photo-like image holding no code at all: textures, text, gradients and printed patterns."""
    rng = random.Random(f"{seed}/{pattern}/{size}")
    nrng = np.random.default_rng(rng.getrandbits(32))
    w, h = size
    if pattern == "bag":
        photo = bag_background(rng, size)
    elif pattern == "text_label":
        photo = bag_background(rng, size)
        card = Image.new("RGB", (round(w * 0.5), round(h * 0.4)), (245, 243, 235))
        draw = ImageDraw.Draw(card)
        font = _font(h * 0.03)
        for i, line in enumerate(_lines_of_text(rng) + _lines_of_text(rng)):
            draw.text((20, 15 + i * h * 0.04), line, fill=(20, 20, 20), font=font)
        place(photo, card, rng, rng.uniform(-20, 20), 0.1)
    elif pattern == "gradient":
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        g = 40 + 180 * (xx / w * rng.random() + yy / h * rng.random()) / 2
        g += nrng.normal(0, 6, (h, w))
        photo = Image.fromarray(np.clip(g, 0, 255).astype(np.uint8)).convert("RGB")
    elif pattern == "stripes":
        period = rng.uniform(4, 40)
        xx = np.arange(w, dtype=np.float32)
        row = ((xx // period) % 2 * 200 + 30).astype(np.uint8)
        photo = Image.fromarray(np.tile(row, (h, 1))).convert("RGB").rotate(rng.uniform(-30, 30), fillcolor=(128, 128, 128))
    elif pattern == "random_bars":
        # Barcode-like bars of random widths: the classic trap for linear decoders.
        widths = nrng.integers(1, 5, size=w) * rng.randint(1, 3)
        row = np.repeat(np.arange(len(widths)) % 2, widths)[:w] * 220 + 20
        band = np.tile(row.astype(np.uint8), (h // 3, 1))
        photo = Image.new("RGB", size, (235, 235, 230))
        photo.paste(Image.fromarray(band).convert("RGB"), (0, h // 3))
    elif pattern == "checker":
        cell = rng.randint(2, 12)
        cells = nrng.integers(0, 2, size=(h // cell + 1, w // cell + 1)).astype(np.uint8) * 255
        photo = Image.fromarray(cells).resize((w, h), Image.NEAREST).convert("RGB")
    elif pattern == "crumpled":
        photo = Image.fromarray(_wrinkle_map(rng, size, 1.0)).convert("RGB")
    elif pattern == "noise":
        photo = Image.fromarray(nrng.normal(128, 50, (h, w)).clip(0, 255).astype(np.uint8)).convert("RGB")
    elif pattern == "grid_table":
        photo = Image.new("RGB", size, (250, 250, 250))
        draw = ImageDraw.Draw(photo)
        step = rng.randint(18, 60)
        font = _font(step * 0.5)
        for y in range(0, h, step):
            draw.line((0, y, w, y), fill=(30, 30, 30), width=2)
            for x in range(0, w, step * 4):
                draw.text((x + 4, y + 4), f"{rng.randint(0, 99999)}", fill=(20, 20, 20), font=font)
        for x in range(0, w, step * 4):
            draw.line((x, 0, x, h), fill=(30, 30, 30), width=2)
    else:
        raise ValueError(pattern)
    photo = photo.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.5)))
    photo = add_noise(photo, rng, rng.uniform(1, 8))
    return LabelImage(f"nocode-{pattern}-{seed}", encode(photo, "JPEG", rng.choice([90, 80, 40])), frozenset())


CODE_FREE_PATTERNS = ["bag", "text_label", "gradient", "stripes", "random_bars", "checker", "crumpled", "noise", "grid_table"]


def label_set(count: int = 220, seed: int = SEED, big_every: int = 12) -> list[LabelImage]:
    """count label photos cycling through all kinds, sizes and difficulties; every big_every-th is 12 MP."""
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        kind = _KIND_CYCLE[i % len(_KIND_CYCLE)]
        size = BIG if i % big_every == big_every - 1 else rng.choice(_SIZES)
        difficulty = rng.choice([0.1, 0.3, 0.5, 0.7, 0.9, 1.0])
        fmt = rng.choices(["JPEG", "PNG", "WEBP"], [0.9, 0.05, 0.05])[0]
        case = label_photo(kind, f"{seed}-{i}", size, difficulty, fmt)
        cases.append(case._replace(name=f"{i:03d}-{case.name.split('-')[0]}-d{difficulty}-{size[0]}x{size[1]}"))
    return cases


def code_free_set(count: int = 45, seed: int = SEED, big_every: int = 9) -> list[LabelImage]:
    """count code-free photos cycling through the patterns; every big_every-th is 12 MP."""
    rng = random.Random(seed + 1)
    cases = []
    for i in range(count):
        pattern = CODE_FREE_PATTERNS[i % len(CODE_FREE_PATTERNS)]
        size = BIG if i % big_every == big_every - 1 else rng.choice(_SIZES)
        case = code_free_photo(pattern, f"{seed}-{i}", size)
        cases.append(case._replace(name=f"{i:03d}-nocode-{pattern}-{size[0]}x{size[1]}"))
    return cases


def bench_set(labels: int = 220, code_free: int = 45, seed: int = SEED) -> list[LabelImage]:
    """The whole bench: label photos then code-free photos."""
    return label_set(labels, seed) + code_free_set(code_free, seed)
