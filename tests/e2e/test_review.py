"""Scenario 4: a supervisor confirms a finding and sends it to the enterprise, the enterprise responds with a
document, and the supervisor resolves it, each from their own screens."""
import uuid
from datetime import datetime, timezone

import pytest
from PIL import Image

from .helpers import DESKTOP, shoot, sign_in

pytestmark = pytest.mark.browser

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def log_finding(api, **fields):
    body = {"client_id": str(uuid.uuid4()), "enterprise_id": "ENT-GMT",
            "site": {"type": "market", "name": "Ganzhou rare-earth market, stall 14"},
            "location": {"lat": 25.83, "lon": 114.93, "accuracy_m": 9},
            "observed_at": datetime.now(timezone.utc).isoformat(), "batch_codes": ["RET5EV3GWF8"],
            "discrepancies": ["unrecorded_transfer", "documents_missing"], "observed_mass_kg": 480.0,
            "severity": "high", "notes": "Drums relabelled by hand; no invoice.", **fields}
    return api.call("POST", "/api/inspections", body, user="inspector")


def act(page, action, fill=None):
    form = f"form[data-action={action}]"
    page.wait_for_selector(form)
    if fill:
        fill(page, form)
    page.click(f"{form} button[type=submit]")


def test_supervisor_and_enterprise_work_a_case(new_context, api, tmp_path):
    finding = log_finding(api)

    boss = new_context(viewport=DESKTOP).new_page()
    sign_in(boss, "supervisor")
    boss.goto("/#/log?enterprise_id=ENT-GMT&status=submitted")
    boss.wait_for_selector(f"a[href='#/case/{finding['id']}']")
    shoot(boss, "log")
    with boss.expect_download() as download:
        boss.click(".export-row button:has-text('CSV')")
    csv_text = open(download.value.path(), encoding="utf-8-sig").read()
    assert finding["id"] in csv_text and len(csv_text.splitlines()) >= 2
    assert download.value.suggested_filename.endswith(".csv")
    boss.click(f"a[href='#/case/{finding['id']}']")
    boss.wait_for_selector(".status-chip.submitted")
    assert "Drums relabelled by hand" in boss.inner_text(".case-main")
    shoot(boss, "case-submitted")
    act(boss, "confirm", lambda p, f: p.fill(f"{f} textarea", "Labels do not match the ledger."))
    boss.wait_for_selector(".case-head .status-chip.confirmed")
    act(boss, "send_to_enterprise")
    boss.wait_for_selector(".case-head .status-chip.awaiting_response")
    assert "Due" in boss.inner_text(".case-head")

    # The enterprise answers from a phone, with a weighing slip (PDF) and a photo of the transfer note.
    slip = tmp_path / "weighing-slip.pdf"
    slip.write_bytes(PDF)
    note = tmp_path / "transfer-note.png"
    Image.new("RGB", (640, 480), (240, 240, 230)).save(note)
    firm_ctx = new_context()
    firm = firm_ctx.new_page()
    sign_in(firm, "enterprise")
    firm.wait_for_selector(f"a[href='#/case/{finding['id']}']")
    shoot(firm, "enterprise-cases")
    firm.click(f"a[href='#/case/{finding['id']}']")
    firm.wait_for_selector("form[data-action=respond]")
    shoot(firm, "enterprise-case")

    def respond(p, f):
        p.fill(f"{f} textarea", "Bought from Baotou Metals on 3 March; transfer note attached.")
        p.set_input_files("#respond-files", [str(slip), str(note)])
    act(firm, "respond", respond)
    firm.wait_for_selector(".case-head .status-chip.responded")
    assert firm.locator(".gallery li").count() == 2

    # Signing out revokes this device's token at once.
    token = firm.evaluate("REFI.getSession().then((s) => s.access_token)")
    firm.click("nav.tabs a[href='#/settings']")
    firm.click("text=Sign out of this device")
    firm.wait_for_selector("form.login")
    status, _, _ = api.raw("GET", "/api/inspections", headers={"Authorization": f"Bearer {token}"})
    assert status == 401

    boss.reload()
    boss.wait_for_selector(".case-head .status-chip.responded")
    assert "Bought from Baotou Metals" in boss.inner_text(".case-timeline")
    boss.wait_for_selector(".gallery img[src^='blob:']")
    shoot(boss, "case-responded")
    act(boss, "resolve", lambda p, f: p.select_option(f"{f} select", "accepted"))
    boss.wait_for_selector(".case-head .status-chip.resolved")
    steps = boss.locator(".case-timeline .step-title strong").all_inner_texts()
    assert [s for s in steps if s != "File added"] == ["Logged", "Confirmed", "Sent to enterprise", "Enterprise responded", "Resolved"]
    shoot(boss, "case-resolved")

    stored = api.call("GET", f"/api/inspections/{finding['id']}", user="supervisor")
    assert stored["status"] == "resolved" and stored["outcome"] == "accepted"
    assert not boss.context.errors and not firm_ctx.errors, boss.context.errors + firm_ctx.errors


def test_stale_etag_reloads_instead_of_overwriting(new_context, api):
    """Two supervisors on one finding: the second to act sees it changed, and nothing is overwritten."""
    finding = log_finding(api, discrepancies=["label_missing_or_damaged"])
    first = new_context(viewport=DESKTOP).new_page()
    sign_in(first, "supervisor")
    first.goto(f"/#/case/{finding['id']}")
    first.wait_for_selector("form[data-action=confirm]")
    # Someone else dismisses it meanwhile (through the API, with the current ETag).
    _, _, headers = api.raw("GET", f"/api/inspections/{finding['id']}", user="admin")
    api.call("POST", f"/api/inspections/{finding['id']}/transitions", {"action": "dismiss", "reason": "duplicate"},
             user="supervisor", headers={"If-Match": headers["ETag"]})
    act(first, "confirm")
    first.wait_for_selector(".case-head .status-chip.dismissed")
    assert "changed this finding meanwhile" in first.inner_text("#toast")
