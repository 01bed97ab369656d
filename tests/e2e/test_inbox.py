"""The inbox on the phone: the unread badge on the tab bar, items linking to their case, the screen in every
language at every width (the layout walk's checks, axe included), reading it offline, and a mark-read made offline
reaching the server once the phone is back online."""
import time
import uuid
from datetime import datetime, timezone

import pytest

from .helpers import sign_in
from .test_phone_layout import Walk, axe_source

pytestmark = pytest.mark.browser


def _sent_finding(api):
    body = {"client_id": str(uuid.uuid4()), "enterprise_id": "ENT-GMT",
            "site": {"type": "market", "name": "Ganzhou rare-earth market, stall 9"},
            "observed_at": datetime.now(timezone.utc).isoformat(), "batch_codes": ["RET5EV3GWF8"],
            "discrepancies": ["unrecorded_transfer"], "severity": "high"}
    finding = api.call("POST", "/api/inspections", body, user="inspector")
    for action in ("confirm", "send_to_enterprise"):
        _, _, headers = api.raw("GET", f"/api/inspections/{finding['id']}", user="supervisor")
        api.call("POST", f"/api/inspections/{finding['id']}/transitions", {"action": action}, user="supervisor",
                 headers={"If-Match": headers["ETag"]})
    return finding["id"]


def _unread(api, user):
    return api.call("GET", "/api/notifications/unread", user=user)["unread"]


def test_the_inbox_badges_links_fits_and_syncs_what_was_read_offline(new_context, api):
    finding_id = _sent_finding(api)
    axe = axe_source()
    page = new_context().new_page()
    sign_in(page, "enterprise")
    badge = page.wait_for_selector("nav.tabs a[href='#/inbox'] .tab-badge", timeout=20000)
    assert int(badge.inner_text()) == _unread(api, "enterprise") >= 1
    page.click("nav.tabs a[href='#/inbox']")
    item = page.wait_for_selector(f".inbox-item.unread a[href='#/case/{finding_id}']")
    assert finding_id[:8] in item.inner_text()

    walk = Walk(page, "enterprise", "en", axe)
    walk.each_language([("inbox", lambda: page.goto("/#/inbox"), f".inbox-item a[href='#/case/{finding_id}']")])
    walk.language("en")

    # Offline: the kept copy is read, and marking it read waits on the phone.
    page.goto("/#/inbox")
    page.wait_for_selector(".inbox-item.unread")
    page.context.set_offline(True)
    page.wait_for_selector(".net.offline")
    page.goto("/#/cases")
    page.wait_for_selector("h1")
    page.goto("/#/inbox")
    page.wait_for_selector(".inbox-asof")
    before = _unread(api, "enterprise")
    shown = page.locator(".inbox-item.unread").count()
    page.locator(".inbox-item.unread button").first.click()
    page.wait_for_function("(n) => document.querySelectorAll('.inbox-item.unread').length < n", arg=shown)
    assert _unread(api, "enterprise") == before, "nothing reaches the server while offline"
    walk.check("inbox-offline", ".inbox-asof")
    page.context.set_offline(False)
    deadline = time.time() + 20
    while _unread(api, "enterprise") != before - 1 and time.time() < deadline:
        page.wait_for_timeout(250)
    assert _unread(api, "enterprise") == before - 1, "the mark-read made offline was synced"

    # Opening an item marks it read and opens its case.
    page.goto("/#/inbox")
    page.click(f".inbox-item a[href='#/case/{finding_id}']")
    page.wait_for_selector(".case-head")
    walk.done()


def test_a_supervisors_inbox_bell_and_screen_fit_in_every_language(new_context, api):
    finding_id = _sent_finding(api)
    _, _, headers = api.raw("GET", f"/api/inspections/{finding_id}", user="enterprise")
    api.call("POST", f"/api/inspections/{finding_id}/transitions", {"action": "respond", "comment": "Attached."},
             user="enterprise", headers={"If-Match": headers["ETag"]})
    page = new_context().new_page()
    sign_in(page, "supervisor")
    # Five tabs fill a 320 px screen already: a reviewer's inbox is the bell in the header, with the same badge.
    assert page.locator("nav.tabs a[href='#/inbox']").count() == 0
    bell = page.wait_for_selector("header a.inbox-bell .bell-badge", timeout=20000)
    assert int(bell.inner_text()) == _unread(api, "supervisor") >= 1
    walk = Walk(page, "supervisor", "en", axe_source())
    walk.each_language([("inbox", lambda: page.goto("/#/inbox"), f".inbox-item a[href='#/case/{finding_id}']")])
    walk.done()
