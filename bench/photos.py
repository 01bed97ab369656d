"""Real-photo bench: our pipeline against zxing-cpp's defaults, pyzbar and their union, in one run, on one core.

    python -m bench.photos [FOLDER ...] [--misses]

FOLDER defaults to ../shared/data/real-photos (each sub-folder a set; an image counts when it yields the text in
its same-named .txt, and counts as wrong when it yields texts but not that one; every image of a folder named "falsepositives*" or "code_free*" must yield nothing). Prints
per folder and in total the read counts and ratios: ours to zxing-cpp, to pyzbar and to their union, false
positives, and the CPU time per image (opening the bytes included for every reader) as a ratio to bare zxing-cpp.
In process, not over HTTP: `../shared/tools/score_photos.py` scores the running service the same way.
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402

from inspector.codes.photos import decode_photo  # noqa: E402

IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".webp")
DEFAULT_ROOT = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "real-photos"


def gs1_form(text: str) -> str | None:
    """The element string in one canonical form (bracketed HRI), or None when the text is not GS1."""
    from biip.gs1_messages import GS1Message

    candidate = text.strip()
    for prefix in ("]C1", "]d2", "]Q3", "]e0", "]J1"):
        if candidate.startswith(prefix):
            candidate = candidate[len(prefix):]
    if not candidate or not (candidate[0].isdigit() or candidate.startswith("(")):
        return None
    try:
        parse = GS1Message.parse_hri if candidate.startswith("(") else GS1Message.parse
        return parse(candidate).as_hri()
    except Exception:
        return None


def same(expected: str, got: str) -> bool:
    """The score_photos.py rule: equal text, UPC-A as 12 or 13 digits, or the same GS1 element string."""
    e = expected.replace("\r\n", "\n").strip()
    g = got.replace("\r\n", "\n").strip()
    if e == g:
        return True
    if e.isdigit() and g.isdigit() and e.lstrip("0") == g.lstrip("0") and {len(e), len(g)} <= {12, 13}:
        return True
    ge, gg = gs1_form(e), gs1_form(g)
    return ge is not None and ge == gg


def read_ours(data: bytes) -> list[str]:
    return [code.text for code in decode_photo(data).codes]


def read_zxing(data: bytes) -> list[str]:
    import zxingcpp

    image = Image.open(io.BytesIO(data))
    image.load()
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def read_pyzbar(data: bytes) -> list[str]:
    from pyzbar import pyzbar

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = Image.open(io.BytesIO(data))
        image.load()
        return [symbol.data.decode("utf-8", "replace") for symbol in pyzbar.decode(image)]


READERS = {"ours": read_ours, "zxing-cpp": read_zxing, "pyzbar": read_pyzbar}


def folders_of(roots: list[Path]) -> list[Path]:
    sets = []
    for root in roots:
        subfolders = sorted(p for p in root.iterdir() if p.is_dir())
        sets += subfolders or [root]
    return sets


def code_free(folder: Path) -> bool:
    return folder.name.startswith(("falsepositives", "code_free"))


def timed(reader, data: bytes) -> tuple[list[str], float]:
    started = time.process_time()
    texts = reader(data)
    return texts, time.process_time() - started


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs else "-"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[DEFAULT_ROOT])
    parser.add_argument("--misses", action="store_true", help="list every image we read wrong or not at all")
    args = parser.parse_args(argv)
    missing = [folder for folder in args.folders if not folder.is_dir()]
    if missing:
        print(f"no such folder: {missing[0]} (the real photos live in ../shared/data/real-photos)", file=sys.stderr)
        return 2
    # One core, so the timings mean the same on a laptop and on a busy server.
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    names = [*READERS, "union"]
    total = dict.fromkeys(names, 0)
    total.update(n=0, fp_images=0, fp=dict.fromkeys(READERS, 0), wrong=dict.fromkeys(READERS, 0))
    seconds = {name: [] for name in READERS}
    print(f"{'folder':<22} {'n':>4} " + " ".join(f"{name:>10}" for name in names) + f" {'ours/union':>11}")
    for folder in folders_of(args.folders):
        row = dict.fromkeys(names, 0)
        row["n"] = 0
        empty = code_free(folder)
        for image in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_TYPES):
            expected_file = image.with_suffix(".txt")
            if not empty and not expected_file.exists():
                continue
            data = image.read_bytes()
            texts = {}
            for name, reader in READERS.items():
                texts[name], spent = timed(reader, data)
                seconds[name].append(spent)
            if empty:
                total["fp_images"] += 1
                for name in READERS:
                    total["fp"][name] += bool(texts[name])
                if texts["ours"] and args.misses:
                    print(f"  FALSE POSITIVE {image}: {texts['ours']}")
                continue
            expected = expected_file.read_text(encoding="utf-8", errors="replace")
            hit = {name: any(same(expected, text) for text in texts[name]) for name in READERS}
            hit["union"] = hit["zxing-cpp"] or hit["pyzbar"]
            for name in READERS:
                total["wrong"][name] += bool(texts[name]) and not hit[name]
            row["n"] += 1
            for name in names:
                row[name] += hit[name]
            if args.misses and not hit["ours"]:
                print(f"  MISS {image.relative_to(folder.parent)}: got {texts['ours']} (zxing-cpp "
                      f"{'read it' if hit['zxing-cpp'] else 'missed'}, pyzbar {'read it' if hit['pyzbar'] else 'missed'})")
        if row["n"]:
            print(f"{folder.name:<22} {row['n']:>4} " + " ".join(f"{row[name]:>10}" for name in names)
                  + f" {ratio(row['ours'], row['union']):>11}")
            for key in [*names, "n"]:
                total[key] += row[key]

    n = max(total["n"], 1)
    print()
    print(f"labelled images: {total['n']}; read: " + ", ".join(f"{name} {total[name]} ({total[name] / n:.1%})" for name in names))
    print(f"ours vs zxing-cpp defaults {ratio(total['ours'], total['zxing-cpp'])}, vs pyzbar {ratio(total['ours'], total['pyzbar'])}, "
          f"vs their union {ratio(total['ours'], total['union'])}")
    print("labelled images with only a wrong text read (a misread, or another code in the photo): "
          + ", ".join(f"{name} {total['wrong'][name]}" for name in READERS))
    if total["fp_images"]:
        print(f"code-free images: {total['fp_images']}; with a code read: " + ", ".join(f"{name} {total['fp'][name]}" for name in READERS))
    median = {name: statistics.median(spent) * 1000 for name, spent in seconds.items() if spent}
    totals = {name: sum(spent) * 1000 for name, spent in seconds.items()}
    if median:
        print("CPU time per image (opening included, one core): " + ", ".join(
            f"{name} median {median[name]:.1f} ms" for name in READERS) +
            f"; ours/zxing-cpp median {ratio(median['ours'], median['zxing-cpp'])}, "
            f"total {ratio(totals['ours'], totals['zxing-cpp'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
