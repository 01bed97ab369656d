"""The inspector's phone: a typed code and its verdict in two languages, a label photo, an offline finding
that syncs exactly once, and the app shell opening with no network."""
import io
import re

import pytest
import segno
from PIL import Image, ImageDraw

from .helpers import case_with, open_app, scan_code, shoot, sign_in, wait_for_worker, without_offline_pack

pytestmark = pytest.mark.browser


def label_png(path, text):
    """A label photo: the QR code on a light background with some margin, as a phone would take it."""
    qr = io.BytesIO()
    segno.make_qr(text, error="m").save(qr, kind="png", scale=8, border=4)
    code = Image.open(io.BytesIO(qr.getvalue())).convert("RGB")
    photo = Image.new("RGB", (code.width + 300, code.height + 360), (226, 222, 212))
    ImageDraw.Draw(photo).text((40, 30), "RARE EARTH OXIDE - 25 kg", fill=(30, 30, 30))
    photo.paste(code, (150, 180))
    photo.save(path)
    return path


def evidence_jpeg(path, size=(2400, 1800)):
    """A big 'camera' photo, so the phone has to downscale it before upload."""
    img = Image.new("RGB", size, (120, 96, 70))
    d = ImageDraw.Draw(img)
    for i in range(0, size[0], 60):
        d.line([(i, 0), (size[0] - i, size[1])], fill=(200, 180, 150), width=9)
    img.save(path, quality=92)
    return path


def test_typed_code_fails_with_reasons_then_in_indonesian(phone, demo_cases):
    """Scenario 1: a typed planted code gets its fail verdict and reasons; in Indonesian the reasons are too."""
    case = case_with(demo_cases, reason="over_quota")
    code = case["code"]
    page = phone
    sign_in(page, "inspector")
    page.wait_for_selector("#code-input")
    shoot(page, "scan")

    # Instant check-character feedback: one wrong character is a typo, caught before anything is sent.
    typo = code[:-1] + ("2" if code[-1] != "2" else "3")
    page.fill("#code-input", typo)
    assert "typo" in page.inner_text("#code-feedback")
    # Spaces, hyphens and lower case are how people type it; it still validates.
    page.fill("#code-input", f"{code[:2]} {code[2:6]}-{code[6:10]} {code[10:]}".lower())
    assert "Check character OK" in page.inner_text("#code-feedback")
    shoot(page, "scan-typed")
    page.click("form.manual button[type=submit]")
    page.wait_for_selector("section.verdict.fail", timeout=20000)
    banner = page.inner_text("section.verdict")
    assert "FAIL" in banner.upper()
    reasons = page.inner_text("ul.reasons")
    assert "Over quota" in reasons
    producer = re.search(r"^(.*) had used", [r for r in page.locator("ul.reasons li p").all_inner_texts()][0]).group(1)
    assert producer
    assert page.locator("section.card .gauge").count() >= 1, "the producer's quota gauge is shown"
    assert page.locator("ol.timeline li").count() >= 1, "the provenance timeline is shown"
    shoot(page, "result-fail")

    # Switch to Indonesian in settings, and come back to the same result.
    result_url = page.url
    page.click("nav.tabs a[href='#/settings']")
    page.check("input[name=language][value=id]")
    page.wait_for_selector("html[lang=id]")
    page.wait_for_selector("h1:has-text('Pengaturan')")
    shoot(page, "settings-id")
    page.goto(result_url)
    page.wait_for_selector("section.verdict.fail")
    assert "GAGAL" in page.inner_text("section.verdict").upper()
    reasons_id = page.inner_text("ul.reasons")
    assert "Melebihi kuota" in reasons_id
    assert "kuota" in reasons_id and producer in reasons_id
    assert "had used" not in reasons_id, "the reason message is translated, not the English one"
    shoot(page, "result-fail-id")
    assert not page.context.errors, page.context.errors


def test_label_photo_is_decoded_and_judged(new_context, demo_cases, tmp_path):
    """Scenario 2: a photo of a label is read on the phone (zxing-wasm), or by the server when the phone cannot."""
    case = case_with(demo_cases, reason="retired_code", site={"type": "market", "name": "Ganzhou rare-earth market"})
    photo = label_png(tmp_path / "label.png", case["code"])

    page = new_context().new_page()
    sign_in(page, "inspector")
    with page.expect_request("**/vendor/zxing/zxing_reader.wasm"):
        page.set_input_files("#label-photo", str(photo))
    page.wait_for_selector("section.verdict.fail", timeout=30000)
    assert "Retired code" in page.inner_text("ul.reasons")
    assert case["code"][2:6] in page.inner_text(".scanned-code")
    shoot(page, "result-from-photo")

    # The last resort: no decoder on the phone (the wasm is blocked), so the server reads the photo.
    ctx = new_context()
    ctx.route("**/vendor/zxing/**", lambda route: route.abort())
    page = ctx.new_page()
    sign_in(page, "inspector")
    with page.expect_response(lambda r: r.url.endswith("/api/decode") and r.status == 200):
        page.set_input_files("#label-photo", str(photo))
    page.wait_for_selector("section.verdict.fail", timeout=30000)
    assert "Retired code" in page.inner_text("ul.reasons")


def test_offline_finding_with_photo_syncs_exactly_once(new_context, api, demo_cases, tmp_path):
    """Scenario 3: a finding logged offline waits as 1 pending, and reaches the server exactly once."""
    case = case_with(demo_cases, reason="quantity_mismatch", holder_enterprise_id="ENT-GMT")
    ctx = new_context()
    page = ctx.new_page()
    sign_in(page, "inspector2")
    wait_for_worker(page)
    before = api.call("GET", "/api/inspections?page_size=100", user="inspector2")

    # The planted code with its scene (holder, observed mass) from the demo sheet.
    page.click("button.demo-open")
    page.wait_for_selector(f"button.demo-case[data-code='{case['code']}']")
    shoot(page, "demo-sheet")
    page.click(f"button.demo-case[data-code='{case['code']}']")
    page.wait_for_selector("section.verdict.fail", timeout=20000)
    assert "Quantity mismatch" in page.inner_text("ul.reasons")

    ctx.set_offline(True)
    page.wait_for_selector(".net.offline")
    page.click("text=Log a finding")
    page.wait_for_selector("form.finding")
    assert page.input_value("#f-enterprise") == "ENT-GMT", "prefilled with the enterprise"
    assert page.is_checked("input[name=discrepancy][value=quantity_mismatch]"), "prefilled with the reasons"
    assert case["code"] in page.input_value("#f-codes"), "prefilled with the batch"
    page.check("input[name=discrepancy][value=documents_missing]")
    page.fill("#f-notes", "Seller had no weighing slip.")
    page.set_input_files("#finding-photo", str(evidence_jpeg(tmp_path / "drums.jpg")))
    page.wait_for_selector("ul.thumbs img")
    page.wait_for_selector(".location-line:has-text('±')")
    shoot(page, "finding-form")
    page.click("form.finding button[type=submit]")
    page.wait_for_selector("text=Findings")
    page.wait_for_selector("a.pending:has-text('1 pending')")
    assert page.locator("ul.items .chip-status.pending").count() == 1
    shoot(page, "history-pending")

    # Back online. The first answer is lost on the way back (the server did create the finding), so the
    # outbox has to send it again: the client_id makes the retry return the stored finding, not a second one.
    lost = {"n": 0}

    def lose_first_answer(route):
        if route.request.method == "POST" and lost["n"] == 0:
            lost["n"] += 1
            route.fetch()
            route.abort("connectionreset")
        else:
            route.continue_()

    ctx.route(re.compile(r".*/api/inspections$"), lose_first_answer)
    ctx.set_offline(False)
    page.wait_for_selector("a.pending", state="hidden", timeout=60000)
    page.wait_for_selector("ul.items .chip-status.sent", timeout=20000)
    shoot(page, "history-synced")

    after = api.call("GET", "/api/inspections?page_size=100", user="inspector2")
    new = [f for f in after if f["id"] not in {b["id"] for b in before}]
    assert lost["n"] == 1, "the first answer was lost, so the finding was sent twice"
    assert len(new) == 1, f"exactly one finding on the server, got {len(new)}"
    finding = api.call("GET", f"/api/inspections/{new[0]['id']}", user="inspector2")
    assert finding["enterprise_id"] == "ENT-GMT"
    assert set(finding["discrepancies"]) == {"quantity_mismatch", "documents_missing"}
    assert finding["notes"] == "Seller had no weighing slip."
    assert finding["location"]["accuracy_m"] == 12
    photos = [a for a in finding["attachments"] if a["kind"] == "photo"]
    assert len(photos) == 1
    assert max(photos[0]["width"], photos[0]["height"]) <= 1600, "the photo was downscaled on the phone"
    assert not ctx.errors, ctx.errors


def test_shell_opens_offline_after_first_visit(new_context):
    """Scenario 5: after one visit the app opens with no network, signed in, with its catalogs and decoder."""
    ctx = new_context()
    without_offline_pack(ctx)
    page = ctx.new_page()
    sign_in(page, "inspector")
    wait_for_worker(page)
    cached = page.evaluate("""async () => {
        const names = await caches.keys();
        const cache = await caches.open(names.find((n) => n.startsWith('refi-shell-')));
        return (await cache.keys()).map((r) => new URL(r.url).pathname);
    }""")
    assert "/" in cached and "/app/main.js" in cached and "/app/i18n/fr.js" in cached
    assert "/vendor/zxing/zxing_reader.wasm" in cached, "the decoder is precached, never fetched from a CDN"

    ctx.set_offline(True)
    page.close()
    page = ctx.new_page()
    open_app(page, "/")
    page.wait_for_selector("#code-input")
    assert page.is_visible(".net.offline")
    page.click("nav.tabs a[href='#/settings']")
    page.check("input[name=language][value=fr]")
    page.wait_for_selector("h1:has-text('Réglages')")
    shoot(page, "offline-settings-fr")

    # A code never seen is queued for judging while offline, with a visible pending count.
    page.check("input[name=language][value=en]")
    scan_code(page, "RE2V5EXLBKA")
    assert "NOT CHECKED YET" in page.inner_text("section.verdict").upper()
    assert page.is_visible("a.pending:has-text('1 pending')")
    shoot(page, "result-queued-offline")


def test_seen_code_offline_shows_last_result_as_of(new_context, demo_cases):
    """A code judged before shows its last result, marked with its time, when scanned again offline."""
    case = case_with(demo_cases, reason="producer_not_approved")
    ctx = new_context()
    without_offline_pack(ctx)
    page = ctx.new_page()
    sign_in(page, "inspector")
    wait_for_worker(page)
    scan_code(page, case["code"])
    page.wait_for_selector("section.verdict.fail")
    ctx.set_offline(True)
    scan_code(page, case["code"])
    page.wait_for_selector("p.as-of")
    assert "Last known result" in page.inner_text("p.as-of")
    assert "Producer not approved" in page.inner_text("ul.reasons")
    shoot(page, "result-cached-offline")
    ctx.set_offline(False)
    page.wait_for_selector("a.pending", state="hidden", timeout=60000)


def y4m_video(path, image_path, frames=20, size=(640, 480)):
    """A short Y4M clip of a label, for Chromium's fake camera (--use-file-for-fake-video-capture)."""
    img = Image.open(image_path).convert("RGB")
    img.thumbnail((size[0] - 40, size[1] - 40))
    frame = Image.new("RGB", size, (90, 90, 90))
    frame.paste(img, ((size[0] - img.width) // 2, (size[1] - img.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (size[0] // 2, size[1] // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    blank = bytes([90]) * (size[0] * size[1]) + bytes([128]) * (half[0] * half[1] * 2)
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{size[0]} H{size[1]} F10:1 Ip A1:1 C420jpeg\n".encode())
        for i in range(frames):
            # The label comes into view after a second, as when the inspector aims the phone.
            out.write(b"FRAME\n" + (blank if i < frames // 2 else planes))
    return path


def test_live_camera_scan_reads_the_label(playwright, server, demo_cases, tmp_path):
    """The live camera path: Chromium's fake camera shows a label, the phone decodes frames and judges the code."""
    from .helpers import CHROMIUM, CHROMIUM_ARGS, PHONE

    case = case_with(demo_cases, reason="unknown_code")
    video = y4m_video(tmp_path / "label.y4m", label_png(tmp_path / "label.png", case["code"]))
    args = CHROMIUM_ARGS + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                            f"--use-file-for-fake-video-capture={video}"]
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
    try:
        page = browser.new_context(base_url=server, viewport=PHONE, permissions=["camera"]).new_page()
        sign_in(page, "inspector")
        page.click("text=Scan with camera")
        page.wait_for_selector("div.camera video")
        shoot(page, "camera")
        page.wait_for_selector("section.verdict.fail", timeout=30000)
        assert "Unknown code" in page.inner_text("ul.reasons")
    finally:
        browser.close()


def test_unreadable_photo_offline_is_queued_and_read_by_the_server_later(new_context, demo_cases, tmp_path):
    """No decoder on the phone and no network: the photo itself waits in the outbox; once online the server
    reads it (multipart /api/scans) and the verdict appears."""
    case = case_with(demo_cases, reason="no_export_record")
    ctx = new_context()
    ctx.route("**/vendor/zxing/**", lambda route: route.abort())
    page = ctx.new_page()
    sign_in(page, "inspector")
    wait_for_worker(page)
    page.click("text=Change")
    page.select_option("select[name=site_type]", "port")
    page.fill("input[name=site_name]", case["scan"]["site"]["name"])
    page.click("text=Save site")
    ctx.set_offline(True)
    page.set_input_files("#label-photo", str(label_png(tmp_path / "label.png", case["code"])))
    page.wait_for_selector("section.verdict.pending", timeout=20000)
    assert "read by the server" in page.inner_text(".scanned-code")
    with page.expect_response(lambda r: r.url.endswith("/api/scans") and r.request.method == "POST") as sent:
        ctx.set_offline(False)
    assert sent.value.status == 201
    assert "multipart/form-data" in sent.value.request.headers["content-type"]
    page.wait_for_selector("section.verdict.fail", timeout=20000)
    assert "No export record" in page.inner_text("ul.reasons")


def test_an_offline_scan_sends_its_measured_wait_and_says_the_clone_check_was_not_done(new_context, demo_cases):
    """The outbox measures how long a scan waited by the phone's monotonic clock and sends it with the scan; with no
    location the verdict says the clone check could not be done instead of passing in silence."""
    case = case_with(demo_cases, status="pass")
    ctx = new_context(permissions=[])  # no location for this phone
    without_offline_pack(ctx)
    page = ctx.new_page()
    sign_in(page, "inspector")
    wait_for_worker(page)
    ctx.set_offline(True)
    scan_code(page, case["code"])
    page.wait_for_selector("section.verdict.pending")
    page.wait_for_timeout(1500)
    with page.context.expect_event("request", lambda r: r.url.endswith("/api/scans") and r.method == "POST") as sent:
        ctx.set_offline(False)
    body = sent.value.post_data_json
    assert isinstance(body["queued_ms"], int) and isinstance(body["queue_interrupted"], bool)
    # The page that queued it measures the whole wait; the service worker, another clock, says it could not.
    assert body["queue_interrupted"] or body["queued_ms"] >= 1400, body
    page.wait_for_selector("ul.checks-not-done", timeout=20000)
    assert "Not checked: Cloned code" in page.inner_text("ul.checks-not-done")
    assert "no location" in page.inner_text("ul.checks-not-done")
    shoot(page, "result-clone-check-not-done")
    assert not page.context.errors, page.context.errors
