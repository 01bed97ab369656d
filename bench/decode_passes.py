"""Per-pass insight for the decoding bench: which pass of our pipeline reads what, and at what cost.

    python -m bench.decode --passes

For every pass (the first stage's matrix and bar reads, then each fallback in order) prints on how many photos it
ran, on how many it read a code, on how many labels its reads made up every expected code (the pass that finished
the job), and its median and total CPU time. Timings here include the logging, so read them as relative costs.
"""
from __future__ import annotations

import statistics
import time
from collections import defaultdict

from inspector.codes import photos


def _label(name: str, view: str, options: dict) -> str:
    extras = []
    formats = options.get("formats")
    if formats is photos._ZXING_MATRIX:
        extras.append("matrix")
    elif formats is photos._ZXING_LINEAR:
        extras.append("bars")
    if "binarizer" in options:
        extras.append(options["binarizer"].name)
    if options.get("try_rotate") is False:
        extras.append("one way")
    if "density" in options:
        extras.append(f"density {options['density']}")
    return f"{name} {view}" + (f" ({', '.join(extras)})" if extras else "")


def pass_table(cases) -> list[str]:
    """Run the pipeline over the cases with every pass timed and its reads recorded; return the printed table."""
    calls: list[tuple[str, float, set[str]]] = []
    original_zxing, original_zbar = photos._read_zxing, photos._read_zbar
    chains = [photos._FALLBACK_PASSES, photos._REDUCED_PHOTO_FALLBACKS]
    originals = [list(chain) for chain in chains]

    def timed(reader):
        name = "zbar" if reader is original_zbar else "zxing"

        def run(views, view, **options):
            started = time.process_time()
            reads = reader(views, view, **options)
            calls.append((_label(name, view, options), (time.process_time() - started) * 1000,
                          {read.code.text for read in reads}))
            return reads
        return run

    photos._read_zxing = timed(original_zxing)
    photos._read_zbar = timed(original_zbar)
    # The fallback tables hold the readers themselves, so wrap their entries too.
    for chain, original in zip(chains, originals):
        chain[:] = [(view, timed(reader), options) for view, reader, options in original]
    ran, read_something, finished, times = defaultdict(int), defaultdict(int), defaultdict(int), defaultdict(list)
    order: list[str] = []
    try:
        for case in cases:
            calls.clear()
            photos.decode_photo(case.photo)
            seen: set[str] = set()
            done = False
            for label, ms, texts in calls:
                if label not in order:
                    order.append(label)
                ran[label] += 1
                times[label].append(ms)
                if texts:
                    read_something[label] += 1
                seen |= texts
                if case.expected and not done and case.expected <= seen:
                    finished[label] += 1
                    done = True
    finally:
        photos._read_zxing, photos._read_zbar = original_zxing, original_zbar
        for chain, original in zip(chains, originals):
            chain[:] = original
    lines = [f"{'pass':<44} {'ran':>5} {'read':>5} {'finished':>9} {'median ms':>10} {'total ms':>9}"]
    for label in order:
        lines.append(f"{label:<44} {ran[label]:>5} {read_something[label]:>5} {finished[label]:>9} "
                     f"{statistics.median(times[label]):>10.1f} {sum(times[label]):>9.0f}")
    return lines
