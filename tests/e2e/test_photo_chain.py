"""Real photos through the web app's own decode chain in chromium: the label-photo picker, then BarcodeDetector where
the browser has it, the zxing-wasm reader we serve, and the server's /api/decode last. A sample of the committed real
photos (tests/fixtures/real_photos, zxing-cpp's test samples) must read about as well as the server alone reads them,
with no wrong text; the rate and the stage that read each photo are printed."""
import json
from collections import Counter
from pathlib import Path

import pytest

from bench.photos import same
from inspector.codes.photos import decode_photo

from .helpers import sign_in

pytestmark = pytest.mark.browser

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real_photos"
FOLDERS = sorted(p for p in REAL.iterdir() if p.is_dir())
# Every sixth photo of each folder, from its first: all fourteen folders in one page's minute.
SAMPLE = [photo for folder in FOLDERS
          for photo in sorted(p for p in folder.iterdir() if p.suffix in (".png", ".jpg", ".webp"))[::6]]

OUTCOME = """() => location.hash.startsWith('#/result/') || !!document.querySelector('.scan-status .error, .scan-status .card')"""


def _expected(photo):
    return photo.with_suffix(".txt").read_text(encoding="utf-8", errors="replace")


def _read_in_the_app(page, photo, n, requests):
    """Pick the photo as an inspector would; return (texts the app settled on, the stage that read them)."""
    page.goto(f"/#/scan?photo={n}")
    page.wait_for_selector("#label-photo", state="attached")
    requests.clear()
    page.set_input_files("#label-photo", str(photo))
    page.wait_for_function(OUTCOME, timeout=30000)
    server = any(r.url.endswith("/api/decode") for r in requests)
    if page.evaluate("() => location.hash").startswith("#/result/"):
        # The result screen sends the scan: its code is the text the chain read.
        page.wait_for_selector("section.verdict", timeout=30000)
        sent = [json.loads(r.post_data) for r in requests if r.url.endswith("/api/scans") and r.method == "POST"]
        texts = [body["code"] for body in sent if body.get("code")]
    elif page.locator(".scan-status .card").count():
        texts = page.locator(".scan-status .card button code").all_inner_texts()
    else:
        texts = []
    return texts, ("server" if server else "local") if texts else "none"


def test_real_photos_read_through_the_apps_decode_chain_about_as_well_as_the_server(new_context):
    assert len(SAMPLE) >= 25 and len({p.parent for p in SAMPLE}) == len(FOLDERS) >= 14
    page = new_context().new_page()
    requests = []
    page.on("request", lambda request: requests.append(request))
    sign_in(page, "inspector")
    # Which local decoder this browser has, asked of the app's own module (the one scan.js uses).
    local = page.evaluate("async () => (await import('/app/media.js')).decoderKind()")
    rows = []
    for n, photo in enumerate(SAMPLE):
        texts, stage = _read_in_the_app(page, photo, n, requests)
        stage = local if stage == "local" else stage
        expected = _expected(photo)
        server_alone = any(same(expected, code.text) for code in decode_photo(photo.read_bytes()).codes)
        rows.append((f"{photo.parent.name}/{photo.name}", stage, any(same(expected, t) for t in texts), texts,
                     server_alone))
    read = sum(hit for _, _, hit, _, _ in rows)
    by_stage = Counter(stage for _, stage, hit, _, _ in rows if hit)
    server_read = sum(alone for *_, alone in rows)
    print(f"\nreal photos through the app's decode chain ({local} decoder here): {read}/{len(rows)} = "
          f"{read / len(rows):.1%}; read by " + ", ".join(f"{k} {v}" for k, v in sorted(by_stage.items()))
          + f"; the server alone reads {server_read}/{len(rows)}")
    for name, stage, hit, texts, alone in rows:
        print(f"  {name:<22} {stage:<7} {'read' if hit else 'MISSED'}{'' if hit else f' (got {texts})'}"
              f"{'' if alone else ' (server alone misses it)'}")
    wrong = [(name, texts) for name, _, hit, texts, _ in rows if texts and not hit]
    assert wrong == []
    # The chain ends at the server, so it reads what the server reads, and the phone's own reader does most of it.
    assert read >= server_read
    assert by_stage[local] >= read // 2
