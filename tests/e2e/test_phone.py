"""The field app on a phone, as a user notices it (issue 13): screens open at the top, the verdict with its banner
on screen, the active tab, and the smaller things a narrow screen shows."""
import pytest

from .helpers import case_with, sign_in, wait_for_worker, without_offline_pack

pytestmark = pytest.mark.browser

SMALL = {"width": 320, "height": 640}

ON_SCREEN = """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
  return r.top >= 0 && r.bottom <= innerHeight; }"""
FOCUSED = """() => { const el = document.activeElement; const r = el.getBoundingClientRect();
  return { tag: el.tagName, cls: el.className, text: (el.textContent || '').trim().slice(0, 40), visible: r.width > 1 && r.height > 1,
    inMain: document.querySelector('main').contains(el) }; }"""


def test_every_screen_change_starts_at_the_top(new_context, demo_cases):
    page = new_context(viewport=SMALL).new_page()
    sign_in(page, "inspector")
    page.wait_for_selector("#code-input")
    # A code sent from low on the Scan screen: the verdict opens with its banner on screen, and focused.
    page.fill("#code-input", case_with(demo_cases, reason="over_quota")["code"])
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    assert page.evaluate("() => scrollY") > 0, "the scan screen is taller than a small phone"
    page.evaluate("() => document.querySelector('form.manual').requestSubmit()")
    page.wait_for_selector("section.verdict.fail")
    assert page.evaluate("() => scrollY") == 0
    assert page.evaluate(ON_SCREEN, "section.verdict")
    focused = page.evaluate(FOCUSED)
    assert "verdict" in focused["cls"] and focused["visible"], focused
    # On the verdict screen the Scan tab is the active one.
    assert page.get_attribute("nav.tabs a.active", "href") == "#/scan"

    # "Scan next" from the bottom of the verdict: the Scan screen at the top, focus on nothing hidden.
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    page.click("text=Scan next")
    page.wait_for_selector("#code-input")
    assert page.evaluate("() => scrollY") == 0
    focused = page.evaluate(FOCUSED)
    assert focused["visible"] and focused["inMain"], focused

    # A tab from low on History: Settings opens at the top with its heading focused.
    page.goto("/#/history")
    page.wait_for_selector("ul.items li")
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    page.click("nav.tabs a[href='#/settings']")
    page.wait_for_selector("input[name=language]")
    assert page.evaluate("() => scrollY") == 0
    focused = page.evaluate(FOCUSED)
    assert focused["tag"] == "H1" and focused["visible"] and focused["text"] == "Settings", focused
    assert not page.context.errors, page.context.errors


def test_supervisor_filters_and_cases_open_at_the_top(new_context, api):
    page = new_context(viewport=SMALL).new_page()
    sign_in(page, "supervisor")
    page.wait_for_selector("table.log-table tbody tr")
    page.click("details.filter-box summary")
    page.select_option("select[name=status]", "submitted")
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    page.click("form.filters button[type=submit]")
    page.wait_for_function("() => location.hash.includes('status=submitted')")
    page.wait_for_selector("table.log-table tbody tr")
    page.wait_for_function("() => scrollY === 0", timeout=5000)  # once the filtered list is up, at the top
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    page.locator("table.log-table tbody tr a").last.click()
    page.wait_for_selector("form[data-action=confirm]")
    page.wait_for_function("() => scrollY === 0", timeout=5000)
    assert page.evaluate(FOCUSED)["tag"] == "H1"
    assert page.get_attribute("nav.tabs a.active", "href") == "#/log", "a case belongs to the log tab"
    assert not page.context.errors, page.context.errors



def test_supervisor_log_opens_on_what_needs_their_action(new_context, api):
    """The supervisor's log opens on what waits for them, oldest first, in compact rows; "All" is one tap away."""
    waiting = api.call("GET", "/api/inspections?status=submitted&status=responded&sort=observed_at&page_size=20", user="supervisor")
    everything = api.call("GET", "/api/inspections?page_size=100", user="supervisor")
    assert waiting and len(everything) > len(waiting), "the demo log has work to do and other findings"
    page = new_context(viewport=SMALL).new_page()
    sign_in(page, "supervisor")
    page.wait_for_selector("table.log-table tbody tr")
    shown = page.eval_on_selector_all("table.log-table tbody tr td[data-col=observed] a", "as => as.map((a) => a.hash.split('/').pop())")
    assert shown == [f["id"] for f in waiting]
    assert page.get_attribute(".log-views a.active", "aria-current") == "page"
    heights = page.eval_on_selector_all("table.log-table tbody tr", "rs => rs.map((r) => r.getBoundingClientRect().height)")
    assert max(heights) < 190, f"log rows are cards again (they were 290 px): {max(heights)} px tall at 320 px"
    page.click(".log-views a:not(.active)")
    page.wait_for_function("() => location.hash.includes('view=all')")
    page.wait_for_function("(n) => document.querySelectorAll('table.log-table tbody tr').length > 0 && "
                           "document.querySelector('.results p.muted').textContent.match(/\\d+/)[0] == n", arg=len(everything))
    assert not page.context.errors, page.context.errors

def photo():
    """A small real JPEG, as a phone camera would give (the app downscales and keeps it as a Blob)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 240), (180, 90, 40)).save(out, "JPEG")
    return out.getvalue()


PHOTO = photo()


def test_a_finding_draft_survives_leaving_and_restarting(new_context, demo_cases):
    ctx = new_context()
    page = ctx.new_page()
    sign_in(page, "inspector")
    page.fill("#code-input", case_with(demo_cases, reason="over_quota")["code"])
    page.click("form.manual button[type=submit]")
    page.wait_for_selector("section.verdict.fail")
    verdict = page.evaluate("() => location.hash")
    page.click("text=Log a finding")
    page.wait_for_selector("form.finding")
    page.fill("#f-notes", "Drums stacked behind the stall, labels torn off.")
    page.set_input_files("#finding-photo", files=[{"name": "drum.jpg", "mimeType": "image/jpeg", "buffer": PHOTO}])
    page.wait_for_selector("ul.thumbs li img")
    page.wait_for_timeout(400)  # the draft is written a moment after the last change
    # Away to another tab, then the app closed and opened again.
    page.click("nav.tabs a[href='#/settings']")
    page.wait_for_selector("input[name=language]")
    page.close()
    page = ctx.new_page()
    page.goto("/" + verdict)
    page.wait_for_selector("section.verdict.fail")
    page.click("text=Log a finding")
    page.wait_for_selector("form.finding .draft-note")
    assert page.input_value("#f-notes") == "Drums stacked behind the stall, labels torn off."
    assert page.locator("ul.thumbs li img").count() == 1
    assert "Draft restored" in page.inner_text(".draft-note")
    # Sent: the draft is gone, a new finding for the same scan starts empty.
    page.click("form.finding button[type=submit]")
    page.wait_for_selector("ul.items li")
    page.goto("/" + verdict)
    page.click("text=Log a finding")
    page.wait_for_selector("form.finding")
    assert page.input_value("#f-notes") == "" and page.locator(".draft-note").count() == 0
    assert not ctx.errors, ctx.errors


def test_a_turned_down_finding_is_fixed_and_resent_with_its_photos(new_context, api):
    ctx = new_context()
    page = ctx.new_page()
    sign_in(page, "inspector")
    page.goto("/#/finding")
    page.wait_for_selector("form.finding")
    # Required fields are said in the app's own words (no browser bubble), and marked.
    assert page.locator("label[for=f-enterprise] .required").inner_text() == "required"
    page.click("form.finding button[type=submit]")
    assert page.inner_text("#finding-message") == "Say which enterprise was inspected."
    assert page.get_attribute("#f-enterprise", "aria-invalid") == "true"
    page.fill("#f-enterprise", "ENT-NOBODY")
    page.check("input[name=discrepancy][value=documents_missing]")
    page.fill("#f-notes", "Invoice book missing.")
    page.set_input_files("#finding-photo", files=[{"name": "desk.jpg", "mimeType": "image/jpeg", "buffer": PHOTO}])
    page.wait_for_selector("ul.thumbs li img")
    page.click("form.finding button[type=submit]")
    page.wait_for_selector("ul.items .rejection", timeout=30000)

    # Fixed with no signal: the enterprise is picked by part of its name from the directory the phone kept.
    wait_for_worker(page)  # the screens opened offline come from the worker's cache
    ctx.set_offline(True)
    page.wait_for_selector(".net.offline")
    page.click(".rejection a:has-text('Fix and resend')")
    page.wait_for_selector("form.finding .fix-note")
    assert page.input_value("#f-enterprise") == "ENT-NOBODY"
    assert page.input_value("#f-notes") == "Invoice book missing."
    assert page.is_checked("input[name=discrepancy][value=documents_missing]")
    assert page.locator("ul.thumbs li img").count() == 1, "the photo comes back with the finding"
    assert page.locator("#enterprise-list option[value=ENT-BMM]").count() == 1, "the directory, not only scanned ones"
    page.fill("#f-enterprise", "ganzhou market")
    assert page.inner_text("#f-enterprise-name").endswith("(ENT-GMT)")
    ctx.set_offline(False)
    page.wait_for_selector(".net.online")
    page.click("form.finding button[type=submit]")
    page.wait_for_selector("ul.items li:has-text('Ganzhou Market Traders') .chip-status.sent", timeout=30000)
    assert page.locator(".rejection").count() == 0, "the turned-down item was replaced"
    page.wait_for_selector("a.pending", state="hidden", timeout=15000)
    mine = api.call("GET", "/api/inspections?enterprise_id=ENT-GMT&page_size=50&sort=-received_at", user="supervisor")
    sent = next(f for f in mine if f.get("notes") == "Invoice book missing.")
    assert len(sent.get("attachments") or []) == 1, sent
    assert not ctx.errors, ctx.errors


VIBRATE_SPY = "() => { window.__vibrations = []; navigator.vibrate = (p) => { window.__vibrations.push(p); return true; }; }"


def queue_offline(page, code):
    page.goto("/#/scan")
    page.wait_for_selector("#code-input")
    page.fill("#code-input", code)
    page.click("form.manual button[type=submit]")
    page.wait_for_selector("section.verdict.pending")


def test_a_queued_scan_that_comes_back_fail_alerts_the_inspector(new_context, demo_cases):
    ctx = new_context()
    without_offline_pack(ctx)
    page = ctx.new_page()
    sign_in(page, "inspector")
    page.evaluate(VIBRATE_SPY)
    wait_for_worker(page)  # the screens opened offline come from the worker's cache
    ctx.set_offline(True)
    page.wait_for_selector(".net.offline")
    fail = case_with(demo_cases, reason="producer_not_approved")
    queue_offline(page, fail["code"])
    assert page.get_attribute("a.pending", "aria-label") == "1 item waiting to be sent. Open history."
    page.click("nav.tabs a[href='#/settings']")
    page.wait_for_selector("input[name=language]")
    ctx.set_offline(False)
    # Judged after sync, away from its screen: a banner, a vibration and a badge on History.
    page.wait_for_selector(".alert-banner.fail", timeout=30000)
    assert "FAIL" in page.inner_text(".alert-banner")
    badge = page.locator("nav.tabs a[href='#/history'] .tab-badge")
    assert badge.inner_text() == "1"
    assert badge.get_attribute("aria-label") == "1 new result with a problem"
    assert len(page.evaluate("() => window.__vibrations")) == 1
    page.click(".alert-banner a:has-text('Open the verdict')")
    page.wait_for_selector("section.verdict.fail")
    assert page.locator(".alert-banner").is_hidden() and badge.count() == 0

    # Vibration turned off in settings: the next one still shows, silently.
    page.goto("/#/settings")
    page.uncheck("input[name=vibrate]")
    wait_for_worker(page)  # the screens opened offline come from the worker's cache
    ctx.set_offline(True)
    page.wait_for_selector(".net.offline")
    queue_offline(page, case_with(demo_cases, reason="late_reporting")["code"])
    page.goto("/#/settings")
    page.wait_for_selector("input[name=vibrate]")
    assert not page.is_checked("input[name=vibrate]")
    ctx.set_offline(False)
    page.wait_for_selector(".alert-banner.warning", timeout=30000)
    assert len(page.evaluate("() => window.__vibrations")) == 1, "no second vibration"
    page.click("nav.tabs a[href='#/history']")
    page.wait_for_selector("ul.items li")
    assert badge.count() == 0 and page.locator(".alert-banner").is_hidden(), "opening History clears the alert"
    assert not ctx.errors, ctx.errors


NO_FIX = "navigator.geolocation.getCurrentPosition = () => {}; navigator.geolocation.watchPosition = () => 0;"


def test_a_scan_never_waits_for_a_gps_fix(new_context, demo_cases):
    ctx = new_context()
    ctx.add_init_script(NO_FIX)  # a phone indoors: the fix never comes
    page = ctx.new_page()
    sign_in(page, "inspector")
    page.fill("#code-input", case_with(demo_cases, status="pass")["code"])
    page.evaluate("""() => { window.__t0 = performance.now();
        addEventListener('hashchange', () => { window.__t1 = performance.now(); }, { once: true });
        document.querySelector('form.manual').requestSubmit(); }""")
    page.wait_for_selector("section.verdict.pass")
    held = page.evaluate("() => window.__t1 - window.__t0")
    assert held < 1000, f"the scan was held {held:.0f} ms"
    assert page.inner_text(".scan-location") == "Sent without a location: the phone had no position yet."

    # With a fix kept from three minutes ago: sent with it, its age and accuracy said.
    page.evaluate("""async () => { const s = await import('/app/state.js');
        await s.saveSetting('location', { lat: 25.83, lon: 114.93, accuracy_m: 12, at: Date.now() - 180000 }); }""")
    page.goto("/#/scan")
    page.fill("#code-input", case_with(demo_cases, reason="late_reporting")["code"])
    page.click("form.manual button[type=submit]")
    page.wait_for_selector("section.verdict.warning")
    assert page.inner_text(".scan-location") == "Location from 3 minutes ago, ± 12 m"
    assert not ctx.errors, ctx.errors


def test_the_demo_cases_are_fetched_once(new_context):
    ctx = new_context()
    page = ctx.new_page()
    fetched = []
    page.on("request", lambda r: fetched.append(r.url) if r.url.endswith("/api/demo/cases") else None)
    sign_in(page, "inspector")
    for _ in range(3):
        page.goto("/#/settings")
        page.wait_for_selector("input[name=language]")
        page.goto("/#/scan?demo=1")
        page.wait_for_selector("dialog.sheet[open] button.demo-case")
    assert len(fetched) == 1, fetched


def test_the_verdict_screen_tells_the_truth(new_context, demo_cases):
    page = new_context().new_page()
    sign_in(page, "inspector")
    page.fill("#code-input", case_with(demo_cases, reason="producer_not_approved")["code"])
    page.click("form.manual button[type=submit]")
    page.wait_for_selector("section.verdict.fail")
    own = page.locator("ol.timeline li.step:has(.tag:text-is('this batch'))")
    assert "bad" in own.get_attribute("class"), "the batch's own step shows its producer was not approved"
    assert page.locator(".empty-why").inner_text().startswith("No quota:")
    assert "not on the whitelist" in page.inner_text(".empty-why")
    lead = page.inner_text("section[aria-labelledby=prov-h] > p.muted")
    assert "0 generations" not in lead and "0 mines" not in lead, lead

    page.goto("/#/scan")
    page.fill("#code-input", case_with(demo_cases, reason="over_quota")["code"])
    page.click("form.manual button[type=submit]")
    page.wait_for_selector("section.verdict.fail")
    own = page.locator("ol.timeline li.step:has(.tag:text-is('this batch'))")
    assert "bad" in own.get_attribute("class"), "an over-quota batch's own step is not green"
    # The reason's figure (use when the batch was produced) differs from the gauge's (use now): both explained.
    explain = page.inner_text(".quota-explain")
    assert "when this batch was produced" in explain and "used now" in explain, explain
    assert not page.context.errors, page.context.errors


def test_compliance_opens_on_the_latest_month_whose_deadline_has_passed(new_context):
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone(timedelta(hours=8)))
    back = 1 if now.day > 10 else 2
    index = now.year * 12 + now.month - 1 - back
    expected = f"{index // 12}-{index % 12 + 1:02d}"
    page = new_context().new_page()
    sign_in(page, "supervisor")
    page.click("nav.tabs a[href='#/reporting']")
    page.wait_for_selector(".compliance-table tbody tr")
    assert page.input_value("#rep-period") == expected
    assert "were due by" in page.inner_text(".deadline-line"), "its deadline is said to have passed"
    assert page.locator(".compliance-table tr.standing-row.open").count() == 0, "a closed month has no 'not due yet' rows"


def test_empty_required_fields_are_said_in_the_apps_language(new_context):
    from .helpers import open_app

    page = new_context(locale="fr-FR").new_page()
    open_app(page, "/#/login")
    page.wait_for_selector("html[lang=fr] form.login")
    assert page.evaluate("() => document.querySelector('form.login').noValidate"), "no browser bubble"
    page.click("form.login button[type=submit]")
    label = page.inner_text("label[for=" + page.get_attribute("input[name=username]", "id") + "]")
    assert page.inner_text("form.login .form-error") == f"À remplir : {label}."
    assert page.get_attribute("input[name=username]", "aria-invalid") == "true"
    assert page.evaluate("() => document.activeElement.name") == "username"


AUDIO_SPY = """() => { window.__tones = []; window.AudioContext = class {
  constructor() { this.currentTime = 0; this.state = 'running'; this.destination = {}; }
  createGain() { return { gain: {}, connect: (x) => x }; }
  createOscillator() { const o = { frequency: {}, connect: (x) => x, start: () => window.__tones.push(o.frequency.value), stop: () => {} }; return o; }
}; }"""


def test_each_verdict_has_its_own_vibration_and_sound_which_settings_turn_off(new_context, demo_cases):
    ctx = new_context()
    page = ctx.new_page()
    ctx.add_init_script(f"({VIBRATE_SPY})(); ({AUDIO_SPY})();")
    sign_in(page, "inspector")

    def signals(code, wait):
        page.evaluate("() => { window.__vibrations = []; window.__tones = []; }")
        page.goto("/#/scan")
        page.fill("#code-input", code)
        page.click("form.manual button[type=submit]")
        page.wait_for_selector(wait)
        page.wait_for_timeout(300)
        return page.evaluate("() => [window.__vibrations, window.__tones, location.hash]")

    passed = signals(case_with(demo_cases, status="pass")["code"], "section.verdict.pass")
    warned = signals(case_with(demo_cases, reason="late_reporting")["code"], "section.verdict.warning")
    failed = signals(case_with(demo_cases, reason="over_quota")["code"], "section.verdict.fail")
    assert [len(p) for p in (passed[0][0], warned[0][0], failed[0][0])] == [1, 3, 5], "one, two and three pulses"
    assert [len(p[1]) for p in (passed, warned, failed)] == [1, 2, 3], "one, two and three beeps"
    assert passed[1][0] > warned[1][0] > failed[1][0], "worse news sounds lower"
    # Opened again later, the verdict is not announced a second time.
    page.evaluate("() => { window.__vibrations = []; window.__tones = []; }")
    page.goto("/" + warned[2])
    page.wait_for_selector("section.verdict.warning")
    page.wait_for_timeout(300)
    assert page.evaluate("() => [window.__vibrations.length, window.__tones.length]") == [0, 0]
    # Both turned off in Settings: the verdict comes silently.
    page.goto("/#/settings")
    page.uncheck("input[name=vibrate]")
    page.uncheck("input[name=sound]")
    assert signals(case_with(demo_cases, reason="over_quota")["code"], "section.verdict.fail")[:2] == [[], []]
    assert not ctx.errors, ctx.errors


def test_a_queued_finding_is_edited_before_it_is_sent(new_context, demo_cases, api):
    ctx = new_context()
    page = ctx.new_page()
    sign_in(page, "inspector")
    wait_for_worker(page)  # the screens opened offline come from the worker's cache
    ctx.set_offline(True)
    page.wait_for_selector(".net.offline")
    page.goto("/#/finding")
    page.wait_for_selector("form.finding")
    page.fill("#f-enterprise", "ENT-GMT")
    page.check("input[name=discrepancy][value=packaging_noncompliant]")
    page.fill("#f-notes", "Sacks unmarked (first words).")
    page.click("form.finding button[type=submit]")
    page.wait_for_selector("ul.items .edit-queued a")
    # Opened for editing and left: it goes back to the outbox unchanged.
    page.click("ul.items .edit-queued a")
    page.wait_for_selector("form.finding .edit-note")
    held = page.evaluate("async () => (await (await import('/app/state.js')).REFI.idb.all('findings')).map((f) => f.state)")
    assert held == ["editing"], held
    page.click("nav.tabs a[href='#/settings']")
    page.wait_for_selector("input[name=language]")
    page.wait_for_function("async () => (await (await import('/app/state.js')).REFI.idb.all('findings')).every((f) => f.state === 'pending')")
    # Edited and saved, still offline; sent once the network is back, with the new words only.
    page.goto("/#/history?tab=findings")
    page.click("ul.items .edit-queued a")
    page.wait_for_selector("form.finding .edit-note")
    assert page.input_value("#f-notes") == "Sacks unmarked (first words)."
    page.fill("#f-notes", "Sacks unmarked, twelve of them (edited).")
    page.click("form.finding button[type=submit]")
    page.wait_for_selector("ul.items li")
    ctx.set_offline(False)
    page.wait_for_selector(".net.online")
    page.wait_for_selector("ul.items li .chip-status.sent", timeout=30000)
    mine = api.call("GET", "/api/inspections?enterprise_id=ENT-GMT&page_size=50&sort=-received_at", user="supervisor")
    notes = [f.get("notes") for f in mine if (f.get("notes") or "").startswith("Sacks unmarked")]
    assert notes == ["Sacks unmarked, twelve of them (edited)."], notes
    assert not ctx.errors, ctx.errors


def test_the_case_shows_the_scan_behind_the_finding_and_scans_since(new_context, api, demo_cases):
    import uuid
    from datetime import datetime, timezone
    code = case_with(demo_cases, reason="over_quota")["code"]

    def scan():
        return api.call("POST", "/api/scans", {"client_id": str(uuid.uuid4()), "code": code,
                                               "scanned_at": datetime.now(timezone.utc).isoformat(),
                                               "site": {"type": "market", "name": "Stall 3"}}, user="inspector")
    cited = scan()
    finding = api.call("POST", "/api/inspections", {"client_id": str(uuid.uuid4()), "scan_ids": [cited["id"]],
                                                    "enterprise_id": "ENT-GMT", "severity": "high"}, user="inspector")
    later = scan()
    page = new_context(viewport=SMALL).new_page()
    sign_in(page, "supervisor")
    page.goto(f"/#/case/{finding['id']}")
    page.wait_for_selector(f"li.case-scan[data-scan='{later['id']}']")
    entries = page.eval_on_selector_all("li.case-scan", "ls => ls.map((l) => [l.dataset.scan, l.dataset.status, !!l.querySelector('.scan-later')])")
    assert entries == [[cited["id"], "fail", False], [later["id"], "fail", True]]
    assert "Over quota" in page.inner_text(f"li.case-scan[data-scan='{cited['id']}'] ul.reasons")
    page.click(f"li.case-scan[data-scan='{cited['id']}'] details.case-provenance summary")
    page.wait_for_selector(f"li.case-scan[data-scan='{cited['id']}'] ol.timeline li.step")
    assert not page.context.errors, page.context.errors
