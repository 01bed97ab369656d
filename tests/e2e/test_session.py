"""The session: it survives closing the app, an expired access token is refreshed quietly, and a
rejected outbox item stays visible with its reason."""
import pytest

from .helpers import open_app, shoot, sign_in, wait_for_worker

pytestmark = pytest.mark.browser


def test_session_survives_closing_the_app_and_refreshes_on_401(new_context, api):
    ctx = new_context()
    page = ctx.new_page()
    sign_in(page, "inspector")
    first = page.evaluate("REFI.getSession()")
    page.close()

    # "Closing the app": a new page in the same browser profile opens signed in.
    page = ctx.new_page()
    open_app(page, "/")
    page.wait_for_selector("#code-input")
    assert page.evaluate("REFI.getSession().then((s) => s.username)") == "inspector"

    # The server no longer accepts this access token (as when it expires): the app refreshes once and goes on.
    page.evaluate("""REFI.getSession().then((s) => REFI.idb.put('kv', Object.assign(s, {access_token: 'expired'}), 'session'))""")
    with page.expect_response("**/api/auth/refresh") as refreshed:
        page.goto("/#/history")
        page.wait_for_selector("h1:has-text('History')")
    assert refreshed.value.status == 200
    now = page.evaluate("REFI.getSession()")
    assert now["access_token"] not in ("expired", first["access_token"])
    assert now["refresh_token"] != first["refresh_token"], "the refresh token rotates"
    status, _, _ = api.raw("GET", "/api/scans", headers={"Authorization": "Bearer " + now["access_token"]})
    assert status == 200


def test_rejected_item_stays_visible_with_its_reason(new_context):
    """A finding the server turns down (unknown enterprise) is not dropped: it shows why, and can be retried."""
    ctx = new_context()
    page = ctx.new_page()
    sign_in(page, "inspector")
    wait_for_worker(page)
    ctx.set_offline(True)
    page.goto("/#/finding")
    page.wait_for_selector("form.finding")
    page.fill("#f-enterprise", "ENT-NOPE")
    page.check("input[name=discrepancy][value=unlicensed_trading]")
    page.click("form.finding button[type=submit]")
    page.wait_for_selector("a.pending:has-text('1 pending')")
    ctx.set_offline(False)
    page.wait_for_selector(".chip-status.rejected", timeout=60000)
    text = page.inner_text(".rejection")
    assert "no enterprise with this ID" in text
    assert page.is_visible("a.pending:has-text('1 turned down')")
    shoot(page, "history-rejected")
    page.once("dialog", lambda d: d.accept())
    page.click(".rejection button.danger")
    page.wait_for_selector(".chip-status.rejected", state="detached")


def test_reset_password_must_be_changed_and_a_lost_phone_can_be_signed_out(new_context, api):
    """After an administrator's reset the app asks for a new password first; from settings, the user signs out
    another device (a lost phone), whose next request lands on the sign-in screen."""
    created = api.call("POST", "/api/users", {"username": "field-e2e", "role": "inspector"}, user="admin")
    assert created["one_time_password"]
    phone = new_context().new_page()
    open_app(phone, "/#/login")
    phone.fill("input[name=username]", "field-e2e")
    phone.fill("input[name=password]", created["one_time_password"])
    phone.click("form.login button[type=submit]")
    phone.wait_for_selector("form.password")
    assert "reset by an administrator" in phone.inner_text("form.password")
    shoot(phone, "password-forced")
    phone.fill("input[name=current_password]", created["one_time_password"])
    phone.fill("input[name=new_password]", "correct horse battery staple")
    phone.fill("input[name=repeat_password]", "correct horse battery staple")
    phone.click("form.password button[type=submit]")
    phone.wait_for_selector("#code-input")

    lost = new_context().new_page()
    sign_in(lost, "field-e2e", "correct horse battery staple")
    phone.goto("/#/settings")
    phone.wait_for_selector("ul.items li button.danger")
    assert phone.locator("ul.items li").count() == 2
    shoot(phone, "settings-devices")
    phone.click("ul.items li button.danger")
    phone.wait_for_selector("ul.items li button.danger", state="detached")
    lost.goto("/#/history")
    lost.wait_for_selector("form.login", timeout=15000)
