"""Draw the app icons (scan-frame corners around a check mark) with Pillow: python mobile_web/tools/make_icons.py."""
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "icons"
BACKGROUND = (16, 61, 92)
INK = (255, 255, 255)
ACCENT = (255, 196, 0)


def draw(size, safe=1.0, rounded=True):
    """One icon of the given size; safe < 1 shrinks the artwork into a maskable icon's safe zone."""
    scale = 4  # draw large, then downsample, for smooth edges
    s = size * scale
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if rounded:
        d.rounded_rectangle([0, 0, s - 1, s - 1], radius=s // 5, fill=BACKGROUND)
    else:
        d.rectangle([0, 0, s, s], fill=BACKGROUND)
    m = s * (1 - 0.62 * safe) / 2
    a, b = m, s - m
    arm, w = (b - a) * 0.28, max(2, int(s * 0.055 * safe))
    for x, y, dx, dy in [(a, a, 1, 1), (b, a, -1, 1), (a, b, 1, -1), (b, b, -1, -1)]:
        d.line([(x, y + dy * arm), (x, y), (x + dx * arm, y)], fill=INK, width=w, joint="curve")
    c = (b - a)
    d.line([(a + c * 0.24, a + c * 0.52), (a + c * 0.43, a + c * 0.71), (a + c * 0.78, a + c * 0.30)],
           fill=ACCENT, width=int(w * 1.3), joint="curve")
    return img.resize((size, size), Image.LANCZOS)


def main():
    OUT.mkdir(exist_ok=True)
    draw(192).save(OUT / "icon-192.png", optimize=True)
    draw(512).save(OUT / "icon-512.png", optimize=True)
    draw(512, safe=0.75, rounded=False).save(OUT / "maskable-512.png", optimize=True)
    draw(180, rounded=False).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)
    draw(64).save(OUT / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])


if __name__ == "__main__":
    main()
