"""Decoding bench: our pipeline against pyzbar alone and zxing-cpp alone, on one core.

    python -m bench.decode [--labels 220] [--code-free 45] [--no-cache] [--passes] [--show-failures] [--real DIR]
                           [--big-only]

First, on the real photos (DIR, default ../shared/data/real-photos, else tests/fixtures/real_photos): how many each
reader reads and its median CPU ms per image, with our ratio to bare zxing-cpp (default options) and bare pyzbar
timed in the same run. Then, on the generated labels, for each reader: success rate (an image succeeds when every expected code is read), false
positives (decoded texts that are not on the image), median ms per image and median ms for the
12-megapixel photos, with ratios against the two baselines. Timings include opening the photo bytes and
are CPU time of this process pinned to one core, so other work on the machine does not blur them.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import pickle
import statistics
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from pathlib import Path

from PIL import Image

from bench import label_images
from inspector.codes.photos import decode_image, decode_photo, open_photo

BIG_PIXELS = 10_000_000


def read_pyzbar(data: bytes) -> list[str]:
    from pyzbar import pyzbar

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = Image.open(io.BytesIO(data)).convert("L")
        return [symbol.data.decode("utf-8", "replace") for symbol in pyzbar.decode(image)]


def read_zxing(data: bytes) -> list[str]:
    import zxingcpp

    image = Image.open(io.BytesIO(data)).convert("L")
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def read_pipeline(data: bytes) -> list[str]:
    return [code.text for code in decode_photo(data).codes]


def content_key(text: str) -> str:
    """Representation-free content, so a baseline is not penalised for raw GS1 or 13-digit UPC-A text."""
    key = text.replace("(", "").replace(")", "").replace("\x1d", "")
    if key.startswith("]C1"):
        key = key[3:]
    if len(key) == 13 and key.isdigit() and key.startswith("0"):
        key = key[1:]
    return key


READERS = [
    ("pyzbar", read_pyzbar, content_key),
    ("zxing-cpp", read_zxing, content_key),
    # Our pipeline is held to the exact normalised text the rest of the service relies on.
    ("pipeline", read_pipeline, lambda text: text),
]


def load_cases(labels: int, code_free: int, use_cache: bool) -> list[label_images.LabelImage]:
    source = Path(label_images.__file__).read_bytes()
    digest = hashlib.sha256(source + f"{labels}/{code_free}".encode()).hexdigest()[:16]
    cache = Path(tempfile.gettempdir()) / f"rare-earth-decode-bench-{digest}.pickle"
    if use_cache and cache.exists():
        return pickle.loads(cache.read_bytes())
    started = time.perf_counter()
    cases = label_images.bench_set(labels, code_free)
    print(f"generated {len(cases)} photos in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    cache.write_bytes(pickle.dumps(cases))
    return cases


def pixels_of(data: bytes) -> int:
    width, height = Image.open(io.BytesIO(data)).size
    return width * height


def run(cases, reader, key) -> dict:
    successes, false_positives, times, big_times = 0, [], [], []
    by_kind = defaultdict(lambda: [0, 0])
    for case in cases:
        started = time.process_time()
        texts = reader(case.photo)
        elapsed = (time.process_time() - started) * 1000
        times.append(elapsed)
        if pixels_of(case.photo) >= BIG_PIXELS:
            big_times.append(elapsed)
        expected = {key(text) for text in case.expected}
        got = {key(text) for text in texts}
        false_positives += [(case.name, text) for text in sorted(got - expected)]
        if case.expected:
            kind = case.name.split("-")[1]
            by_kind[kind][1] += 1
            if expected <= got:
                successes += 1
                by_kind[kind][0] += 1
    labelled = sum(1 for case in cases if case.expected)
    return {
        "success": successes / labelled,
        "successes": successes,
        "labelled": labelled,
        "false_positives": false_positives,
        "median_ms": statistics.median(times),
        "median_big_ms": statistics.median(big_times) if big_times else float("nan"),
        "big_count": len(big_times),
        "by_kind": dict(by_kind),
    }


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs else "-"


def real_photo_table(root: Path) -> list[str]:
    """Reads and median CPU ms per image of each reader on the real photos, one core, in this run."""
    from bench import photos

    images = [image for folder in photos.folders_of([root]) if not photos.code_free(folder)
              for image in sorted(folder.iterdir())
              if image.suffix.lower() in photos.IMAGE_TYPES and image.with_suffix(".txt").exists()]
    reads, times = defaultdict(int), defaultdict(list)
    for image in images:
        data = image.read_bytes()
        expected = image.with_suffix(".txt").read_text(encoding="utf-8", errors="replace")
        for name, reader in photos.READERS.items():
            texts, spent = photos.timed(reader, data)
            times[name].append(spent * 1000)
            reads[name] += any(photos.same(expected, text) for text in texts)
    median = {name: statistics.median(spent) for name, spent in times.items()}
    lines = [f"real photos ({root}): {len(images)} images; one core, opening the bytes included",
             f"{'reader':<10} {'read':>12} {'median ms':>10} {'p90 ms':>8} {'ours/this median':>17}"]
    for name in photos.READERS:
        p90 = statistics.quantiles(times[name], n=10)[8]
        lines.append(f"{name:<10} {reads[name]:>4}/{len(images):<4} {reads[name] / len(images):>6.1%} "
                     f"{median[name]:>5.1f} {p90:>8.1f} {ratio(median['ours'], median[name]):>17}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=220)
    parser.add_argument("--code-free", type=int, default=45)
    parser.add_argument("--no-cache", action="store_true", help="regenerate the photos even if a cached set exists (in the temp folder)")
    parser.add_argument("--show-failures", action="store_true")
    parser.add_argument("--passes", action="store_true", help="also print what each pass of our pipeline reads and costs")
    parser.add_argument("--big-only", action="store_true", help="of the generated labels, time only the 12-MP photos")
    parser.add_argument("--real", type=Path, default=None, help="the real photos (a folder of folders with .txt texts)")
    args = parser.parse_args(argv)

    # One core, so the figures mean the same on a laptop and on a busy server.
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    root = Path(__file__).resolve().parent.parent
    real = args.real or next((p for p in (root.parent / "shared" / "data" / "real-photos",
                                          root / "tests" / "fixtures" / "real_photos") if p.is_dir()), None)
    if real:
        print("\n".join(real_photo_table(real)) + "\n")

    cases = load_cases(args.labels, args.code_free, not args.no_cache)
    if args.big_only:
        cases = [case for case in cases if pixels_of(case.photo) >= BIG_PIXELS]
    labelled = sum(1 for case in cases if case.expected)
    big = sum(1 for case in cases if pixels_of(case.photo) >= BIG_PIXELS)
    print(f"{len(cases)} photos: {labelled} labels, {len(cases) - labelled} code-free, {big} of 12 MP; one core\n")

    results = {}
    for name, reader, key in READERS:
        started = time.perf_counter()
        results[name] = run(cases, reader, key)
        print(f"  {name}: {time.perf_counter() - started:.0f} s", file=sys.stderr)

    base_z, base_x, ours = results["pyzbar"], results["zxing-cpp"], results["pipeline"]
    header = f"{'reader':<10} {'success':>16} {'false pos.':>10} {'median ms':>10} {'median ms 12MP':>15}"
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        print(f"{name:<10} {r['successes']:>4}/{r['labelled']:<4} {r['success']:>6.1%} {len(r['false_positives']):>10} "
              f"{r['median_ms']:>10.1f} {r['median_big_ms']:>15.1f}")
    print()
    for base_name, base in (("pyzbar", base_z), ("zxing-cpp", base_x)):
        print(f"pipeline vs {base_name:<9}: success {ratio(ours['success'], base['success'])}, "
              f"median time {ratio(ours['median_ms'], base['median_ms'])}, "
              f"12-MP median time {ratio(ours['median_big_ms'], base['median_big_ms'])}")

    opening, decoding = [], []
    for case in cases:
        if pixels_of(case.photo) >= BIG_PIXELS:
            started = time.process_time()
            image = open_photo(case.photo)
            opened = time.process_time()
            decode_image(image)
            opening.append((opened - started) * 1000)
            decoding.append((time.process_time() - opened) * 1000)
    if opening:
        print(f"pipeline on 12 MP: median {statistics.median(opening):.1f} ms to open (JPEG drafted to 2000 px), "
              f"median {statistics.median(decoding):.1f} ms to find the codes")

    print("\nsuccess by label kind")
    kinds = sorted(ours["by_kind"])
    print(f"{'kind':<24}" + "".join(f"{name:>12}" for name in results))
    for kind in kinds:
        cells = "".join(f"{r['by_kind'][kind][0]:>7}/{r['by_kind'][kind][1]:<4}" for r in results.values())
        print(f"{kind:<24}{cells}")

    for name, r in results.items():
        for case_name, text in r["false_positives"]:
            print(f"false positive ({name}): {case_name}: {text!r}")
    if args.passes:
        from bench.decode_passes import pass_table

        print("\nour pipeline, pass by pass (each fallback runs only while nothing is found)")
        print("\n".join(pass_table(cases)))
    if args.show_failures:
        for case in cases:
            if case.expected and not case.expected <= set(read_pipeline(case.photo)):
                print("pipeline missed:", case.name, sorted(case.expected))
    return 0


if __name__ == "__main__":
    sys.exit(main())
