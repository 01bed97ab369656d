"""The ledger side in the browser: the clerk's monthly ledger (template, upload, receipt, nil report, record), the
supervisor's monthly reports and the risk ranking, offline behaviour, and screenshots at phone and desktop size."""
import csv
import io
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from .helpers import DESKTOP, PHONE, audit_a11y, shoot, sign_in, wait_for_worker

pytestmark = pytest.mark.browser

CHINA = timezone(timedelta(hours=8))


def china_yesterday():
    return (datetime.now(CHINA) - timedelta(days=1)).date().isoformat()


def own_enterprise(page):
    return page.evaluate("self.REFI.getSession().then((s) => s.enterprise_id)")


def open_ledger(page):
    page.click("nav.tabs a[href='#/ledger']")
    page.wait_for_selector(".ledger-record li.record-month", timeout=20000)


def download_template(page):
    """The CSV template exactly as the clerk downloads it: its header and its example rows."""
    with page.expect_download() as info:
        page.click("button[data-template=csv]")
    raw = open(info.value.path(), "rb").read()
    assert info.value.suggested_filename.endswith(".csv")
    text = raw.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    # The instruction lines (Chinese, then English) come above the header; an upload skips them too.
    start = next(i for i, line in enumerate(lines) if line and line[0] == "event_id")
    assert start == 2 and all(len([c for c in line if c]) == 1 for line in lines[:start]), lines[:start]
    header = lines[start]
    return raw, header, [dict(zip(header, line)) for line in lines[start + 1:] if any(line)]


def ledger_csv(header, *rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in header})
    return out.getvalue().encode("utf-8")


def import_row(event_id, enterprise_id, declaration):
    """A lot imported by the clerk's own enterprise: needs no holdings, whitelist or quota."""
    return {"event_id": event_id, "event_type": "import", "occurred_at": china_yesterday(), "enterprise_id": enterprise_id,
            "line_role": "output", "mass_kg": "750", "stage": "compound", "product_type": "prnd_oxide", "reo_pct": "99",
            "doc_no": declaration, "port": "Shanghai", "country": "MY"}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(page, name, content, mime="text/csv"):
    page.set_input_files("#ledger-file", files=[{"name": name, "mimeType": mime, "buffer": content}])
    page.click("form.ledger-upload button[type=submit]")
    page.wait_for_selector(f".receipt-box .receipt[data-status]:has-text('{name}')", timeout=30000)
    return page.locator(".receipt-box .receipt")


def tile_value(receipt, label):
    return int(receipt.locator(f".receipt-count:has(.tile-label:text-is('{label}')) .tile-value").inner_text().replace(",", ""))


def test_clerk_uploads_the_ledger_and_reads_the_receipt(new_context, api):
    page = new_context().new_page()
    sign_in(page, "enterprise")
    open_ledger(page)
    me = own_enterprise(page)
    _, header, examples = download_template(page)
    assert header[:4] == ["event_id", "event_type", "occurred_at", "enterprise_id"]
    submissions_before = page.locator(".submissions li.submission").count()

    tag = uuid.uuid4().hex[:8].upper()
    # The import's declaration is in the customs register (loaded by an administrator), so it is not flagged.
    api.call("POST", "/api/registry/customs-declarations", user="admin", body={"declarations": [{
        "declaration_no": f"ID-E2E-{tag}", "declared_on": china_yesterday(), "importer_id": me, "port": "Shanghai",
        "hs_code": "2846901910", "net_mass_kg": 750, "origin_country": "MY"}]})
    first = ledger_csv(header, import_row(f"EV-E2E-{tag}-1", me, f"ID-E2E-{tag}"))
    receipt = upload(page, "october-ledger.csv", first)
    assert receipt.get_attribute("data-status") == "accepted"
    assert "Accepted and stored" in receipt.inner_text()
    assert tile_value(receipt, "Accepted") == 1 and tile_value(receipt, "Duplicates") == 0
    assert tile_value(receipt, "Flags") == 0
    code = receipt.locator(".issued-code").first.text_content().strip()
    batch = api.call("GET", f"/api/batches/{code}", user="supervisor")["batch"]
    assert batch["holder_id"] == me, "the imported lot is in the ledger, held by the clerk's enterprise"

    # The same line again is a duplicate; a receipt nobody shipped is stored, and flagged with its reason.
    sender = next(r["counterparty_id"] for r in examples if r["counterparty_id"] not in ("", me))
    second = ledger_csv(header, import_row(f"EV-E2E-{tag}-1", me, f"ID-E2E-{tag}"),
                        {"event_id": f"EV-E2E-{tag}-2", "event_type": "receipt", "occurred_at": china_yesterday(),
                         "enterprise_id": me, "batch_code": code, "mass_kg": "750", "counterparty_id": sender,
                         "doc_no": f"WB-E2E-{tag}"})
    receipt = upload(page, "october-ledger-2.csv", second)
    assert receipt.get_attribute("data-status") == "accepted"
    assert tile_value(receipt, "Accepted") == 1 and tile_value(receipt, "Duplicates") == 1
    assert tile_value(receipt, "Flags") == 1
    flag = receipt.locator(".line-flag[data-code=receipt_without_shipment]")
    assert "Receipt without a recorded shipment" in flag.inner_text()
    assert f"WB-E2E-{tag}" in flag.inner_text(), "the server's sentence about the flag is shown"
    assert "1 event was sent before and is stored only once." in receipt.inner_text()

    # Both submissions now head the clerk's list, newest first.
    page.wait_for_function(f"() => document.querySelectorAll('.submissions li.submission').length >= {min(10, submissions_before + 2)}")
    newest = page.locator(".submissions li.submission").first
    assert newest.get_attribute("data-status") == "accepted"
    assert "Accepted: 1 · duplicates: 1 · flags: 1" in newest.inner_text()
    assert not page.context.errors, page.context.errors


def test_a_bad_line_is_listed_and_nothing_is_stored(new_context):
    page = new_context().new_page()
    sign_in(page, "enterprise")
    open_ledger(page)
    me = own_enterprise(page)
    template, header, examples = download_template(page)

    # The template as downloaded: its example lines are the clerk's own enterprise's, so none is another's (issue 15).
    assert {r["enterprise_id"] for r in examples} == {me}
    receipt = upload(page, "ledger-template.csv", template)
    assert receipt.get_attribute("data-status") == "accepted", receipt.inner_text()
    assert "Another enterprise's data" not in receipt.inner_text()

    # One good line and one impossible line: the impossible one is named, and the good one is not stored either.
    tag = uuid.uuid4().hex[:8].upper()
    good = import_row(f"EV-E2E-{tag}-OK", me, f"ID-E2E-{tag}")
    bad = {**import_row(f"EV-E2E-{tag}-BAD", me, f"ID-E2E-{tag}-2"), "mass_kg": "-5"}
    receipt = upload(page, "with-a-bad-line.csv", ledger_csv(header, good, bad))
    assert receipt.get_attribute("data-status") == "rejected"
    assert "1 line cannot be accepted, so nothing of this submission was stored." in receipt.inner_text()
    assert receipt.locator(".scroll-list").evaluate("(el) => getComputedStyle(el).overflowY") == "auto"
    error = receipt.locator(".line-error")
    assert error.count() == 1
    assert error.get_attribute("data-line") == "3", "the file's line 3 (line 1 is the header)"
    text = error.inner_text()
    assert f"EV-E2E-{tag}-BAD" in text and "Line 3" in text and "Impossible mass" in text
    assert "mass" in error.locator("p").last.inner_text().lower(), "the server's own sentence for the line"

    receipt = upload(page, "good-line-again.csv", ledger_csv(header, good))
    assert receipt.get_attribute("data-status") == "accepted"
    assert tile_value(receipt, "Accepted") == 1 and tile_value(receipt, "Duplicates") == 0, \
        "the good line of the rejected file was never stored"

    # The XLSX template goes through the same checks.
    with page.expect_download() as info:
        page.click("button[data-template=xlsx]")
    workbook = open(info.value.path(), "rb").read()
    receipt = upload(page, "ledger-template.xlsx", workbook, XLSX)
    assert receipt.get_attribute("data-status") == "accepted"
    assert tile_value(receipt, "Duplicates") == len({r["event_id"] for r in examples})

    def refused(name, content=b"event_id\n", mime="text/csv"):
        page.set_input_files("#ledger-file", files=[{"name": name, "mimeType": mime, "buffer": content}])
        page.click("form.ledger-upload button[type=submit]")
        page.wait_for_selector(f".receipt-box .receipt[data-status=refused]:has-text('{name}')")
        return page.locator(".receipt-box .receipt").inner_text()

    assert "Upload the ledger as .csv, .xlsx or .ods" in refused("notes.pdf", b"%PDF-1.4", "application/pdf"), \
        "a 415 shows the server's message as given"
    # A 409 (the ledger changed meanwhile) and a bare 413 from the web server, as the browser would get them.
    conflict = "The ledger changed while this submission was applied. Nothing of this submission was stored; submit it again."
    page.route("**/api/ledger/uploads", lambda route: route.fulfill(status=409, json={
        "code": 409, "status": "Conflict", "message": conflict, "errors": {"error_code": "ledger_conflict"}}))
    assert conflict in refused("conflict.csv")
    page.unroute("**/api/ledger/uploads")
    page.route("**/api/ledger/uploads", lambda route: route.fulfill(status=413, json={"code": 413, "status": "Request Entity Too Large"}))
    assert "larger than the server accepts" in refused("huge.csv")
    page.unroute("**/api/ledger/uploads")
    assert not page.context.errors, page.context.errors


def test_clerk_files_a_nil_report(new_context, api):
    page = new_context().new_page()
    sign_in(page, "enterprise")
    open_ledger(page)
    me = own_enterprise(page)
    period = page.locator("#ledger-nil-period").input_value()
    before = {p["period"]: p for p in api.call("GET", f"/api/reporting/enterprises/{me}?months=12", user="enterprise")["periods"]}
    assert period == max(before), "the month offered first is the one being reported now"

    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.click("form.ledger-nil button[type=submit]")
    page.wait_for_selector(".receipt-box .receipt[data-status=accepted]")
    assert asked and me in asked[0]
    receipt = page.locator(".receipt-box .receipt")
    month_name = datetime.strptime(period, "%Y-%m").strftime("%B %Y")
    assert f"Nil report filed for {month_name}" in receipt.inner_text()

    after = {p["period"]: p for p in api.call("GET", f"/api/reporting/enterprises/{me}?months=12", user="enterprise")["periods"]}
    assert after[period]["submissions"] == before[period]["submissions"] + 1
    assert after[period]["status"] in ("on_time", "late")
    # The record is drawn again once the receipt is in: wait for the new count rather than read the old list.
    expect(page.locator(f".ledger-record li.record-month[data-period='{period}']")).to_contain_text(
        f"{after[period]['submissions']} submission", timeout=15000)
    assert "Nil report" in page.locator(".submissions li.submission").first.inner_text()

    # Declining the question sends nothing.
    page.once("dialog", lambda d: d.dismiss())
    page.click("form.ledger-nil button[type=submit]")
    page.wait_for_timeout(500)
    again = api.call("GET", f"/api/reporting/enterprises/{me}?months=12", user="enterprise")["periods"]
    assert {p["period"]: p for p in again}[period]["submissions"] == after[period]["submissions"]
    assert not page.context.errors, page.context.errors


def periods_with(api, status):
    """Due months in which some enterprise is late (or missing), as the API reports them."""
    due = api.call("GET", "/api/risk/enterprises?limit=1", user="supervisor")["due_periods"]
    found = []
    for period in due:
        body = api.call("GET", f"/api/reporting/compliance?period={period}&status={status}", user="supervisor")
        if body["items"]:
            found.append((period, body["items"]))
    return found


def test_supervisor_sees_who_is_late_or_missing(new_context, api):
    missing, late = periods_with(api, "missing"), periods_with(api, "late")
    assert missing and late, "the demo data plants missing and late monthly reports"
    # The screen opens on the latest month whose deadline (the 10th of the next month) has passed (issue 13).
    now = datetime.now(CHINA)
    index = now.year * 12 + now.month - 1 - (1 if now.day > 10 else 2)
    default = api.call("GET", f"/api/reporting/compliance?period={index // 12}-{index % 12 + 1:02d}", user="supervisor")

    page = new_context().new_page()
    sign_in(page, "supervisor")
    page.click("nav.tabs a[href='#/reporting']")
    page.wait_for_selector(".compliance-table tbody tr")
    assert page.input_value("#rep-period") == default["period"], "the latest closed month by default"
    assert page.locator(".compliance-table tbody tr").count() == default["total"]

    period, rows = missing[0]
    page.fill("#rep-period", period)
    page.click("form.period-form button[type=submit]")
    page.wait_for_url(lambda url: url.endswith(f"#/reporting?period={period}"))
    row = page.locator(f".compliance-table tr[data-enterprise='{rows[0]['enterprise_id']}']")
    row.wait_for()
    assert row.locator(".standing.missing").inner_text().strip() == "Missing"
    assert "overdue by" in row.inner_text() and "Not entered" in row.inner_text()
    first = page.locator(".compliance-table tbody tr").first
    assert "missing" in first.get_attribute("class"), "worst first"

    page.click(".standing-tiles a.tile.missing")
    page.wait_for_url(lambda url: "status=missing" in url)
    page.wait_for_selector(".standing-tiles a.tile.missing[aria-current=true]")
    statuses = page.locator(".compliance-table tbody tr .standing").evaluate_all("(els) => els.map((e) => e.dataset.status)")
    assert statuses and set(statuses) == {"missing"}
    assert len(statuses) == len(rows)

    period, rows = late[0]
    page.goto(f"/#/reporting?period={period}&status=late")
    page.wait_for_selector(f".compliance-table tr[data-enterprise='{rows[0]['enterprise_id']}']")
    row = page.locator(f".compliance-table tr[data-enterprise='{rows[0]['enterprise_id']}']")
    assert row.locator(".standing.late").inner_text().strip() == "Late"
    assert " late" in row.locator("td.late").inner_text()

    # One enterprise's year of reports, from its row.
    row.locator("td.who a").click()
    page.wait_for_selector(f".record li.record-month[data-period='{period}'].late")
    assert page.locator(".record li.record-month").count() == 12
    assert not page.context.errors, page.context.errors


def test_supervisor_sees_where_to_inspect_next(new_context, api):
    ranking = api.call("GET", "/api/risk/enterprises", user="supervisor")
    top = ranking["items"][0]
    assert top["score"] > 0 and top["top_factor"]

    page = new_context().new_page()
    sign_in(page, "supervisor")
    page.click("nav.tabs a[href='#/reporting']")
    page.click("nav.tabs-local a[href='#/risk']")
    page.wait_for_selector(".risk-list li.risk-item")
    assert page.locator("nav.tabs a.active").get_attribute("href") == "#/reporting", "the risk ranking sits under its tab"
    items = page.locator(".risk-list li.risk-item")
    assert items.count() == len(ranking["items"])
    first = items.first
    assert first.get_attribute("data-enterprise") == top["enterprise_id"]
    assert first.locator(".risk-score-value").inner_text() == str(top["score"])
    sentence = first.locator(".risk-top").inner_text().strip()
    factor = next(f for f in top["factors"] if f["factor"] == top["top_factor"]["factor"])
    if not factor.get("periods"):
        assert sentence == top["top_factor"]["text"], "built from the numbers, it says what the server says"
    assert str(factor["count"]) in sentence and f"{factor['points']} points" in sentence

    first.locator("summary").click()
    table = first.locator(".factor-table")
    table.wait_for()
    assert table.locator("tbody tr").count() == len(top["factors"])
    assert f"{factor['count']} × {factor['weight']} = {factor['points']}" in table.inner_text()
    # A report factor counts over the due months, with the months named.
    reporter = next((r for r in ranking["items"] for f in r["factors"] if f["factor"] == "missing_reports"), None)
    if reporter:
        item = page.locator(f".risk-list li.risk-item[data-enterprise='{reporter['enterprise_id']}']")
        item.locator("summary").click()
        row = item.locator(".factor-table tr[data-factor=missing_reports]")
        n = next(f["count"] for f in reporter["factors"] if f["factor"] == "missing_reports")
        assert f"{n} monthly report{'s' if n != 1 else ''} never entered in the last {len(ranking['due_periods'])} due months (" \
            in row.inner_text()
    first.locator("a:has-text('Monthly reports')").click()
    page.wait_for_selector(".record li.record-month")
    assert top["enterprise_id"] in page.inner_text(".reporting-record")
    assert not page.context.errors, page.context.errors


def test_offline_the_screens_say_they_need_the_network(new_context):
    ctx = new_context()
    page = ctx.new_page()
    sign_in(page, "enterprise")
    wait_for_worker(page)
    open_ledger(page)
    ctx.set_offline(True)
    page.wait_for_selector(".offline-slot .offline-note")
    assert "need the network" in page.inner_text(".offline-slot")
    page.set_input_files("#ledger-file", files=[{"name": "late.csv", "mimeType": "text/csv", "buffer": b"event_id\n"}])
    page.click("form.ledger-upload button[type=submit]")
    page.wait_for_selector(".receipt-box .receipt[data-status=refused]")
    assert "You are offline" in page.inner_text(".receipt-box") and "nothing was sent" in page.inner_text(".receipt-box")
    ctx.set_offline(False)
    page.wait_for_selector(".offline-slot .offline-note", state="detached")

    boss_ctx = new_context()
    boss = boss_ctx.new_page()
    sign_in(boss, "supervisor")
    wait_for_worker(boss)
    boss_ctx.set_offline(True)
    boss.goto("/#/risk")  # the shell and the screen's module come from the service worker's cache
    boss.wait_for_selector(".risk .offline-note")
    assert "This screen needs the network" in boss.inner_text(".risk")
    boss.click("nav.tabs-local a[href='#/reporting']")
    boss.wait_for_selector(".reporting .offline-note")
    boss_ctx.set_offline(False)
    assert not ctx.errors and not boss_ctx.errors, (ctx.errors, boss_ctx.errors)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_ledger_screens_at_phone_and_desktop_size(new_context, api, viewport):
    """Screenshots to look at, and the same checks as every other screen: names, 48 px targets, AA contrast."""
    problems = {}

    def visit(page, name, wait):
        page.wait_for_selector(wait, timeout=20000)
        page.evaluate("window.scrollTo(0, 0)")
        shoot(page, name)
        found = audit_a11y(page)
        if found:
            problems[name] = found

    ctx = new_context(viewport=viewport)
    page = ctx.new_page()
    sign_in(page, "enterprise")
    open_ledger(page)
    visit(page, "ledger", ".ledger-record li.record-month")
    me = own_enterprise(page)
    template, header, _ = download_template(page)
    upload(page, "ledger-template.csv", template)
    page.wait_for_timeout(800)  # the app's own smooth scroll to the receipt ends first
    page.evaluate("document.querySelector('.receipt-box').scrollIntoView()")
    shoot(page, "ledger-rejected")
    tag = uuid.uuid4().hex[:8].upper()
    upload(page, "ledger.csv", ledger_csv(header, import_row(f"EV-E2E-{tag}", me, f"ID-E2E-{tag}")))
    page.wait_for_timeout(800)  # the app's own smooth scroll to the receipt ends first
    page.evaluate("document.querySelector('.receipt-box').scrollIntoView()")
    shoot(page, "ledger-accepted")
    found = audit_a11y(page)
    if found:
        problems["ledger-accepted"] = found

    boss = new_context(viewport=viewport).new_page()
    sign_in(boss, "supervisor")
    period = periods_with(api, "missing")[0][0]
    boss.goto(f"/#/reporting?period={period}")
    visit(boss, "reporting", ".compliance-table tbody tr")
    boss.goto("/#/risk")
    boss.wait_for_selector(".risk-list li.risk-item")
    boss.locator(".risk-list li.risk-item summary").first.click()
    visit(boss, "risk", ".factor-table")
    boss.goto("/#/reporting/" + periods_with(api, "late")[0][1][0]["enterprise_id"])
    visit(boss, "reporting-enterprise", ".record li.record-month")

    # In Chinese: the tab, the statuses and the factor sentences read without a placeholder left.
    boss.goto("/#/settings")
    boss.check("input[name=language][value=zh-CN]")
    boss.wait_for_selector("html[lang=zh-CN]")
    boss.goto("/#/risk")
    visit(boss, "risk-zh", ".risk-list li.risk-item")
    assert "合规" in boss.inner_text("nav.tabs")
    text = boss.inner_text(".risk-list")
    assert "{" not in text and "undefined" not in text and "分" in text
    boss.goto(f"/#/reporting?period={period}")
    visit(boss, "reporting-zh", ".compliance-table tbody tr")
    assert "未报" in boss.inner_text(".compliance-table")
    boss.goto("/#/settings")
    boss.check("input[name=language][value=en]")

    assert not problems, "\n".join(f"{screen}: {p}" for screen, ps in problems.items() for p in ps)
    for c in (ctx, boss.context):
        assert not c.errors, c.errors
