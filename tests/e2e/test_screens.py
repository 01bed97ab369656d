"""Every screen at phone (390x844) and desktop size: screenshots for people to look at, and an automatic
check of what a screen reader and a gloved thumb need (names, 48 px targets, AA contrast)."""
import pytest

from .helpers import DESKTOP, PHONE, audit_a11y, case_with, open_app, shoot, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(params=[PHONE, DESKTOP], ids=["phone", "desktop"])
def viewport(request):
    return request.param


def visit(page, problems, name, wait):
    page.wait_for_selector(wait, timeout=20000)
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, name)
    found = audit_a11y(page)
    if found:
        problems[name] = found


def demo(page, code, wait="section.verdict"):
    page.goto("/#/scan")
    page.click("button.demo-open")
    page.wait_for_selector(f"button.demo-case[data-code='{code}']")
    page.click(f"button.demo-case[data-code='{code}']")
    page.wait_for_selector(wait, timeout=20000)


def test_every_screen(new_context, api, demo_cases, viewport):
    problems = {}
    ctx = new_context(viewport=viewport)
    page = ctx.new_page()
    open_app(page, "/#/login")
    visit(page, problems, "login", "form.login")

    sign_in(page, "inspector")
    visit(page, problems, "scan", "#code-input")
    page.goto("/#/scan?demo=1")
    visit(page, problems, "demo-sheet", "dialog.sheet[open] button.demo-case")
    page.keyboard.press("Escape")

    demo(page, case_with(demo_cases, status="pass")["code"], "section.verdict.pass")
    visit(page, problems, "result-pass", "section.verdict.pass")
    demo(page, case_with(demo_cases, reason="late_reporting")["code"], "section.verdict.warning")
    visit(page, problems, "result-warning", "section.verdict.warning")
    demo(page, case_with(demo_cases, reason="tainted_lineage")["code"], "section.verdict.fail")
    visit(page, problems, "result-fail-lineage", "ol.timeline li.step.bad")
    page.locator("#prov-h").scroll_into_view_if_needed()
    shoot(page, "result-provenance")

    page.click("text=Log a finding")
    visit(page, problems, "finding-form", "form.finding")
    page.goto("/#/history")
    visit(page, problems, "history-scans", "ul.items li")
    page.goto("/#/history?tab=findings")
    visit(page, problems, "history-findings", "ul.items li")
    page.goto("/#/settings")
    visit(page, problems, "settings", "input[name=language]")

    page.check("input[name=language][value=zh-CN]")
    page.wait_for_selector("html[lang=zh-CN]")
    demo(page, case_with(demo_cases, reason="over_quota")["code"], "section.verdict.fail")
    visit(page, problems, "result-fail-zh", "section.verdict.fail")
    assert "超配额" in page.inner_text("ul.reasons")
    page.goto("/#/settings")
    page.check("input[name=language][value=fr]")
    page.wait_for_selector("html[lang=fr]")
    page.goto("/#/scan")
    visit(page, problems, "scan-fr", "#code-input")
    page.goto("/#/settings")
    page.check("input[name=language][value=en]")

    boss = new_context(viewport=viewport).new_page()
    sign_in(boss, "supervisor")
    visit(boss, problems, "log", "table.log-table tbody tr")
    boss.goto("/#/dashboard")
    visit(boss, problems, "dashboard", "figure.chart-wrap svg")
    submitted = api.call("GET", "/api/inspections?status=submitted&page_size=1", user="supervisor")[0]
    boss.goto(f"/#/case/{submitted['id']}")
    visit(boss, problems, "case-supervisor", "form[data-action=confirm]")

    firm = new_context(viewport=viewport).new_page()
    sign_in(firm, "enterprise")
    visit(firm, problems, "enterprise-cases", "table.log-table tbody tr")
    waiting = api.call("GET", "/api/inspections?status=awaiting_response&enterprise_id=ENT-GMT&page_size=1", user="supervisor")[0]
    firm.goto(f"/#/case/{waiting['id']}")
    visit(firm, problems, "enterprise-respond", "form[data-action=respond]")

    assert not problems, "\n".join(f"{screen}: {p}" for screen, ps in problems.items() for p in ps)
    for c in (ctx, boss.context, firm.context):
        assert not c.errors, c.errors


def test_demo_banner_only_in_demo_mode(new_context):
    """The "demo data, not saved" banner follows /api/meta; a real deployment shows none."""
    page = new_context().new_page()
    open_app(page, "/#/login")
    page.wait_for_selector(".demo-banner:has-text('Demo data, not saved')")
    assert page.is_visible("text=Demo users")

    real = new_context()
    real.route("**/api/meta", lambda route: route.fulfill(json={"demo": False, "notice": None, "reasons": []}))
    page = real.new_page()
    open_app(page, "/#/login")
    page.wait_for_timeout(500)
    assert page.locator(".demo-banner").is_hidden()
    assert not page.is_visible("text=Demo users")
