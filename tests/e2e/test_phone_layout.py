"""The layout walk: every screen of every role, in every language, at 320, 360 and 390 px and a desktop (1366).

One browser context per role, signed in once; the language is switched in place as the settings screen does it,
and between widths only the viewport changes (what a screen shows is prepared once, in English, then opened again
in each language). At each width a screen fails on: sideways scroll of the page; a visible element whose box
extends past the viewport; content wider than its own box (clipped or spilling); chart labels outside their chart;
a short label (tab, tile, chip, button) broken inside a word; overlapping siblings in rows; the tab bar off screen;
in zh-CN, id and fr, text that is only in the English catalog.
At 390 px axe-core runs on the same state and fails on serious or critical violations. Screenshots:
artifacts/screenshots/layout-<role>-<language>-<screen>-<width>.png (every language at 320, English at 360, 390 and 1366).
"""
import os
import re
import time
from pathlib import Path

import pytest

from .helpers import SHOTS, case_with, open_app, sign_in, without_offline_pack

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
WIDTHS = [320, 360, 390, 1366]
AXE_WIDTH = 390
HEIGHT = {320: 640, 360: 740, 390: 844, 1366: 900}
LANGUAGES = ["en", "zh-CN", "id", "fr"]
# Screenshots: every language at 320 px, where the languages break first, and English at every width kept here.
SHOT_WIDTHS = {320, 360, 390, 1366}


def axe_source():
    for candidate in (os.environ.get("AXE_CORE_JS"), ROOT / "mobile_web" / "node_modules" / "axe-core" / "axe.min.js"):
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_text()
    pytest.fail("axe-core is not installed: run `bash scripts/build_web.sh` (mobile_web/package.json pins it)")


LAYOUT_CHECK = r"""
() => {
  const vw = document.documentElement.clientWidth;
  const problems = [];
  const name = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    if (typeof el.className === 'string' && el.className.trim()) s += '.' + el.className.trim().split(/\s+/).join('.');
    const text = (el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 40);
    return text ? `${s} "${text}"` : s;
  };
  const se = document.scrollingElement;
  if (se.scrollWidth > vw + 1) problems.push(`page scrolls sideways: ${se.scrollWidth}px wide at ${vw}px`);
  const ignored = (el) => el.closest('.visually-hidden, .skip, dialog:not([open]), [hidden], .toast:not(.show), noscript, datalist, option, script, style, head');
  const hidden = (el) => { const s = getComputedStyle(el); return s.visibility === 'hidden' || s.display === 'none' || Number(s.opacity) === 0; };
  const inScroller = (el) => { for (let e = el.parentElement; e && e !== document.body; e = e.parentElement) {
    const o = getComputedStyle(e).overflowX; if (o === 'auto' || o === 'scroll') return true; } return false; };
  const open = document.querySelector('dialog[open]');
  // What sticks out of a box: its deepest descendant past the box's right edge.
  const culprit = (box) => { const edge = box.getBoundingClientRect().right - parseFloat(getComputedStyle(box).paddingRight) + 1;
    let found = null; for (const d of box.querySelectorAll('*')) { const r = d.getBoundingClientRect(); if (r.width && r.right > edge && !ignored(d)) found = d; }
    return found ? ' (sticking out: ' + name(found) + ')' : ''; };
  const reported = new Set();
  for (const el of document.body.querySelectorAll('*')) {
    if (ignored(el) || (open && !open.contains(el) && el.closest('main, header, nav'))) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1 || hidden(el)) continue;
    const parentReported = el.parentElement && reported.has(el.parentElement);
    if ((r.right > vw + 1 || r.left < -1) && !inScroller(el)) {
      reported.add(el);
      if (!parentReported) problems.push(`past the viewport (${Math.round(r.left)}..${Math.round(r.right)} of ${vw}): ${name(el)}`);
      continue;
    }
    if (el instanceof SVGElement) {
      if (el.tagName === 'text') {
        const box = el.ownerSVGElement.getBoundingClientRect();
        if (r.left < box.left - 1 || r.right > box.right + 1) problems.push(`chart label clipped: ${name(el)}`);
      }
      continue;
    }
    const s = getComputedStyle(el);
    if (s.display.startsWith('inline') && s.display !== 'inline-block' && s.display !== 'inline-flex' && s.display !== 'inline-grid') continue;
    if (['INPUT', 'SELECT', 'TEXTAREA', 'IMG', 'VIDEO', 'BUTTON'].includes(el.tagName) && el.tagName !== 'BUTTON') continue;
    if (el.clientWidth && el.scrollWidth > el.clientWidth + 1 && s.overflowX !== 'auto' && s.overflowX !== 'scroll' && !inScroller(el)) {
      reported.add(el);
      if (!parentReported) problems.push(`content wider than its box (${el.scrollWidth} > ${el.clientWidth}): ${name(el)}${culprit(el)}`);
    }
  }
  // Short labels must not break inside a word (CJK breaks between characters by design).
  for (const el of document.querySelectorAll('.tabs a span, .tile-label, .standing, .status-chip, .chip-status, .severity-chip, .badge, .check-chip span, .tabs-local a, button, a.button, .net span, .pending span, th, .verdict-word')) {
    if (ignored(el) || hidden(el) || !el.getClientRects().length || el.closest('.demo-case')) continue;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      if (node.parentElement.closest('code, .code')) continue;  // codes may wrap anywhere
      for (const m of node.textContent.matchAll(/[A-Za-zÀ-ÿ0-9'’]{2,}/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].filter((q) => q.width > 0).map((q) => Math.round(q.top)));
        if (tops.size > 1) problems.push(`word broken across lines: "${m[0]}" in ${name(el)}`);
      }
    }
  }
  // Siblings laid out side by side must not overlap.
  for (const row of document.querySelectorAll('.item-line, .row, .chips, .tiles, .tabs, .bar, .bar-status, .step-title, .reason-head, .sticky-actions, .item, .risk-head, .receipt-banner, .line-head, .standing-counts')) {
    if (ignored(row) || hidden(row)) continue;
    const kids = [...row.children].filter((k) => !ignored(k) && !hidden(k)).map((k) => [k, k.getBoundingClientRect()]).filter(([, r]) => r.width > 0 && r.height > 0);
    for (let i = 0; i < kids.length; i++) for (let j = i + 1; j < kids.length; j++) {
      const [a, ra] = kids[i], [b, rb] = kids[j];
      const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left), h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (w > 2 && h > 2) problems.push(`overlap: ${name(a)} and ${name(b)}`);
    }
  }
  // The tab bar stays on screen on a phone.
  const tabs = document.querySelector('nav.tabs');
  if (tabs && !tabs.hidden && vw < 900 && !open) {
    const r = tabs.getBoundingClientRect();
    if (r.bottom > innerHeight + 1 || r.top < 0 || r.right > vw + 1) problems.push('the tab bar is off screen');
  }
  return [...new Set(problems)];
}
"""

# Text on a zh-CN, id or fr screen that is a message of the English catalog the language says differently (or
# lacks): a hard-coded or untranslated string. Plural forms a language does not have (".one") are not messages.
ENGLISH_LEFT = r"""
async (lang) => {
  const en = (await import('/app/i18n/en.js')).default;
  const other = (await import(`/app/i18n/${lang}.js`)).default;
  const theirs = new Set(Object.values(other));
  const exact = new Set(), patterns = [];
  for (const [key, text] of Object.entries(en)) {
    if (key.endsWith('.one') || other[key] === text || theirs.has(text) || !/[A-Za-z]{3}/.test(text)) continue;
    if (!text.includes('{')) { exact.add(text.trim()); continue; }
    const parts = text.split(/\{[a-z_]+\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    if (parts.join('').replace(/[^A-Za-z]/g, '').length >= 6) patterns.push([key, new RegExp('^' + parts.join('.+?') + '$', 's')]);
  }
  const seen = (el) => el.getClientRects().length && !el.closest('.visually-hidden, .toast:not(.show), [hidden], dialog:not([open]), code, .code, script, style, noscript, .lang-switch');
  const found = [];
  const test = (text, where) => {
    const s = text.trim().replace(/\s+/g, ' ');
    if (s.length < 3) return;
    if (exact.has(s)) { found.push(`English text "${s.slice(0, 60)}" in ${where}`); return; }
    for (const [key, re] of patterns) if (re.test(s)) { found.push(`English text "${s.slice(0, 60)}" (${key}) in ${where}`); return; }
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement && seen(node.parentElement)) test(node.textContent, node.parentElement.tagName.toLowerCase());
  }
  for (const el of document.querySelectorAll('[aria-label], [placeholder], [title]')) {
    if (!el.closest('[hidden], dialog:not([open]), .lang-switch'))
      for (const a of ['aria-label', 'placeholder', 'title']) if (el.hasAttribute(a)) test(el.getAttribute(a), `${el.tagName.toLowerCase()}[${a}]`);
  }
  return [...new Set(found)];
}
"""

# The toast is left out: it fades in and out, and axe would measure its contrast half-transparent. Colour
# contrast (axe's slowest rule) does not change with the language: it runs in English, every other rule everywhere.
AXE_RUN = """
async (full) => {
  const options = { resultTypes: ['violations'] };
  if (!full) options.rules = { 'color-contrast': { enabled: false } };
  const result = await axe.run({ exclude: [['#toast']] }, options);
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}
"""


class Walk:
    """Checks one signed-in page at every width; collects what is wrong instead of stopping at the first."""

    def __init__(self, page, role, lang, axe):
        self.page, self.role, self.lang, self.axe = page, role, lang, axe
        self.problems = []
        self.screens = 0
        self.axe_seconds = self.check_seconds = self.layout_seconds = self.shot_seconds = 0.0
        self.born = time.monotonic()

    def check(self, screen, wait=None, top=True):
        page = self.page
        if wait:
            page.wait_for_selector(wait, timeout=20000)
        if top:
            page.evaluate("() => window.scrollTo(0, 0)")
        self.screens += 1
        started = time.monotonic()
        page.evaluate("() => { const t = document.getElementById('toast'); if (t) t.classList.remove('show'); }")  # a toast fades on its own
        # Widths in the order that starts at the current one (the walk goes 320 to 1366, then back), saving a resize.
        if self.lang != "en":
            for p in page.evaluate(ENGLISH_LEFT, self.lang):
                self.problems.append(f"{self.role}/{self.lang}/{screen}: {p}")
        current = page.viewport_size["width"]
        widths = WIDTHS if current != WIDTHS[-1] else WIDTHS[::-1]
        for width in widths:
            if width != page.viewport_size["width"]:
                page.set_viewport_size({"width": width, "height": HEIGHT[width]})
            # No frame to wait for: reading a box forces the layout at the new width.
            t1 = time.monotonic()
            for p in page.evaluate(LAYOUT_CHECK):
                self.problems.append(f"{self.role}/{self.lang}/{screen}@{width}: {p}")
            self.layout_seconds += time.monotonic() - t1
            if width == 320 or (width in SHOT_WIDTHS and self.lang == "en"):
                t1 = time.monotonic()
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / f"layout-{self.role}-{self.lang}-{screen}-{width}.png"))
                self.shot_seconds += time.monotonic() - t1
            if width == AXE_WIDTH:
                t0 = time.monotonic()
                if not page.evaluate("() => typeof axe !== 'undefined'"):
                    page.evaluate(self.axe)
                for v in page.evaluate(AXE_RUN, self.lang == "en"):
                    self.problems.append(f"{self.role}/{self.lang}/{screen}@{width}: axe {v}")
                self.axe_seconds += time.monotonic() - t0
        self.check_seconds += time.monotonic() - started

    def go(self, hash, screen, wait):
        self.page.goto("/" + hash)
        self.check(screen, wait)

    def language(self, lang):
        """Switch the app's language in place, as the settings screen does, and paint the screen again."""
        self.lang = lang
        self.page.evaluate("""async (code) => {
            const i18n = await import('/app/i18n.js'); const st = await import('/app/state.js');
            await i18n.setLanguage(code); await st.saveSetting('language', code);
            (await import('/app/main.js')).render(); }""", lang)
        # Painted in the new language: a render started before the switch may still have been in flight.
        self.page.wait_for_selector(f"body[data-lang='{lang}']")

    def each_language(self, screens):
        """Every screen in every language: screens is a list of (name, prepare, wait); prepare opens the state."""
        for lang in LANGUAGES:
            self.language(lang)
            for name, prepare, wait in screens:
                prepare()
                self.check(name, wait)

    def done(self):
        print(f"{self.role}/{self.lang}: {self.screens} screens, {time.monotonic() - self.born:.1f}s, checks {self.check_seconds:.1f}s: layout {self.layout_seconds:.1f}s, screenshots {self.shot_seconds:.1f}s, axe {self.axe_seconds:.1f}s")
        assert self.screens, "no screen was checked"
        assert not self.problems, f"{len(self.problems)} layout problems:\n" + "\n".join(self.problems)
        assert not self.page.context.errors, self.page.context.errors


@pytest.fixture(scope="module")
def axe():
    return axe_source()


def nav(page, hash):
    return lambda: page.goto("/" + hash)


def start(new_context, role, axe):
    page = new_context().new_page()
    without_offline_pack(page.context)
    walk = Walk(page, role, "en", axe)
    if role == "inspector":
        open_app(page, "/#/login")
        for lang in LANGUAGES:
            page.click(f".lang-switch button[lang={lang}]")
            walk.lang = lang
            walk.check("login", f"html[lang={lang}] form.login")
        page.click(".lang-switch button[lang=en]")
    sign_in(page, role)
    return walk


def scan(page, code, wait="section.verdict"):
    page.goto("/#/scan")
    page.wait_for_selector("#code-input")
    page.fill("#code-input", code)
    page.click("form.manual button[type=submit]")
    page.wait_for_selector(wait, timeout=20000)
    return page.evaluate("() => location.hash")


def offline(walk, screens, first=None):
    ctx = walk.page.context
    ctx.set_offline(True)
    walk.page.wait_for_selector(".net.offline")
    screens = first() if first else screens
    walk.each_language(screens)
    ctx.set_offline(False)
    walk.page.wait_for_selector(".net.online")


def test_inspector_screens_fit(new_context, demo_cases, axe):
    walk = start(new_context, "inspector", axe)
    page = walk.page
    verdicts = {name: scan(page, case_with(demo_cases, **kw)["code"], wait) for name, kw, wait in [
        ("result-pass", {"status": "pass"}, "section.verdict.pass"),
        ("result-warning", {"reason": "late_reporting"}, "section.verdict.warning"),
        ("result-over-quota", {"reason": "over_quota"}, "section.verdict.fail"),
        ("result-lineage", {"reason": "tainted_lineage"}, "ol.timeline li.step.bad")]}
    # A finding the server turns down (an enterprise that does not exist): its rejection and the header's count.
    page.goto("/#/finding?scan=" + verdicts["result-lineage"].rsplit("/", 1)[1])
    page.fill("#f-enterprise", "ENT-NOBODY")
    page.click("form.finding button[type=submit]")
    page.wait_for_selector("ul.items .rejection", timeout=30000)
    fix = page.get_attribute(".rejection a[href^='#/finding?edit=']", "href")

    def provenance():
        page.goto("/" + verdicts["result-lineage"])
        page.wait_for_selector("#prov-h")
        # In one step: the screen may be painted again meanwhile (its data came in), replacing the heading.
        page.wait_for_function("() => { const el = document.getElementById('prov-h'); if (!el) return false; el.scrollIntoView(); return true; }")

    screens = [("scan", nav(page, "#/scan"), "#code-input"),
               ("demo-sheet", nav(page, "#/scan?demo=1"), "dialog.sheet[open] button.demo-case")]
    screens += [(name, nav(page, hash), "section.verdict") for name, hash in verdicts.items()]
    screens += [("finding-form", nav(page, "#/finding?scan=" + verdicts["result-over-quota"].rsplit("/", 1)[1]), "form.finding"),
                ("history-findings-rejected", nav(page, "#/history?tab=findings"), "ul.items .rejection"),
                ("finding-fix", nav(page, fix), "form.finding .fix-note"),
                ("history-scans", nav(page, "#/history"), "ul.items li"),
                ("settings", nav(page, "#/settings"), "input[name=language]"),
                ("password", nav(page, "#/password"), "form input[type=password]")]
    walk.each_language(screens)
    for lang in LANGUAGES:  # the provenance, low on the verdict screen, where it is scrolled to
        walk.language(lang)
        provenance()
        walk.check("result-provenance", top=False)

    # Offline: the scan is kept for later, with its "not checked yet" banner and the pending count.
    def queued():
        hash = scan(page, case_with(demo_cases, reason="unknown_code")["code"], "section.verdict.pending")
        return [("scan-offline", nav(page, "#/scan"), "#code-input"),
                ("result-queued-offline", nav(page, hash), "section.verdict.pending"),
                ("history-offline", nav(page, "#/history"), "ul.items li")]

    offline(walk, None, first=queued)
    # Back online the queued scan is judged (an unknown code: FAIL) away from its screen: the alert and the badge.
    page.goto("/#/settings")
    page.wait_for_selector(".alert-banner.fail", timeout=30000)
    walk.each_language([("alert-after-sync", nav(page, "#/settings"), ".alert-banner.fail")])
    walk.done()


def test_supervisor_screens_fit(new_context, api, axe):
    walk = start(new_context, "supervisor", axe)
    page = walk.page
    submitted = api.call("GET", "/api/inspections?status=submitted&page_size=1", user="supervisor")[0]
    enterprise = api.call("GET", "/api/inspections?page_size=1", user="supervisor")[0]["enterprise_id"]

    def filters():
        page.goto("/#/log")
        page.wait_for_selector("details.filter-box summary")
        if not page.is_visible(".filter-grid"):
            page.click("details.filter-box summary")

    def risk():
        page.goto("/#/risk")
        page.wait_for_selector(".risk-list li.risk-item summary")
        page.locator(".risk-list li.risk-item summary").first.click()

    walk.each_language([
        ("log", nav(page, "#/log"), "table.log-table tbody tr"),
        ("log-filters", filters, ".filter-grid"),
        ("dashboard", nav(page, "#/dashboard"), "figure.chart-wrap svg"),
        ("case", nav(page, f"#/case/{submitted['id']}"), "form[data-action=confirm]"),
        ("reporting", nav(page, "#/reporting"), ".compliance-table tbody tr"),
        ("reporting-enterprise", nav(page, f"#/reporting/{enterprise}"), ".record li.record-month"),
        ("risk", risk, ".factor-table"),
        ("scan", nav(page, "#/scan"), "#code-input"),
        ("settings", nav(page, "#/settings"), "input[name=language]")])
    offline(walk, [("reporting-offline", nav(page, "#/reporting"), ".offline-note")])
    walk.done()


def test_enterprise_screens_fit(new_context, api, axe):
    walk = start(new_context, "enterprise", axe)
    page = walk.page
    waiting = api.call("GET", "/api/inspections?status=awaiting_response&enterprise_id=ENT-GMT&page_size=1", user="supervisor")[0]

    def receipt():
        # A file that is only a header: turned down, with its receipt (a fresh ledger screen each time).
        page.goto("/#/cases")
        page.wait_for_selector("table.log-table")
        page.goto("/#/ledger")
        page.set_input_files("#ledger-file", files=[{"name": "empty.csv", "mimeType": "text/csv", "buffer": b"event_id,event_type\n"}])
        page.click("form.ledger-upload button[type=submit]")
        page.wait_for_selector(".receipt-box .receipt[data-status]", timeout=30000)
        page.evaluate("() => document.querySelector('.receipt-box').scrollIntoView()")

    screens = [("cases", nav(page, "#/cases"), "table.log-table tbody tr"),
               ("case-respond", nav(page, f"#/case/{waiting['id']}"), "form[data-action=respond]"),
               ("ledger", nav(page, "#/ledger"), ".ledger-record li.record-month"),
               ("settings", nav(page, "#/settings"), "input[name=language]")]
    walk.each_language(screens)
    for lang in LANGUAGES:
        walk.language(lang)
        receipt()
        walk.check("ledger-receipt", top=False)
    offline(walk, [("ledger-offline", nav(page, "#/ledger"), ".offline-note")])
    walk.done()


def test_admin_screens_fit(new_context, axe):
    walk = start(new_context, "admin", axe)
    page = walk.page
    walk.each_language([
        ("log", nav(page, "#/log"), "table.log-table tbody tr"),
        ("dashboard", nav(page, "#/dashboard"), "figure.chart-wrap svg"),
        ("reporting", nav(page, "#/reporting"), ".compliance-table tbody tr"),
        ("scan", nav(page, "#/scan"), "#code-input"),
        ("settings", nav(page, "#/settings"), "input[name=language]")])
    walk.done()


def test_the_check_sees_sideways_scroll(new_context):
    """The walk's own check notices a page wider than the phone (so a green walk means something)."""
    page = new_context(viewport={"width": 320, "height": 640}).new_page()
    open_app(page, "/#/login")
    page.wait_for_selector("form.login")
    assert page.evaluate(LAYOUT_CHECK) == []
    page.evaluate("() => { const d = document.createElement('div'); d.style.width = '400px'; d.textContent = 'wide'; document.querySelector('main').append(d); }")
    found = page.evaluate(LAYOUT_CHECK)
    assert any(re.match(r"page scrolls sideways", p) for p in found), found
    assert any("sticking out: div \"wide\"" in p for p in found), found


def test_the_check_sees_english_left_over(new_context):
    """The walk's check notices an English catalog message on a screen in another language."""
    page = new_context(viewport={"width": 390, "height": 844}).new_page()
    open_app(page, "/#/login")
    page.click(".lang-switch button[lang=zh-CN]")
    page.wait_for_selector("html[lang=zh-CN] form.login")
    assert page.evaluate(ENGLISH_LEFT, "zh-CN") == []
    page.evaluate("() => { const d = document.createElement('p'); d.textContent = 'Demo data, not saved'; document.querySelector('main').append(d); }")
    assert any('"Demo data, not saved"' in p for p in page.evaluate(ENGLISH_LEFT, "zh-CN"))
