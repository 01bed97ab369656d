"""Helpers for the browser tests: signing in, scanning, screenshots and an accessibility audit."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
GANZHOU = {"latitude": 25.83, "longitude": 114.93, "accuracy": 12}


def case_with(demo_cases, reason=None, status=None, **scan):
    """The first planted case with exactly this reason (or status) and scan context."""
    for c in demo_cases:
        if reason is not None and c["expected_reasons"] != [reason]:
            continue
        if status is not None and c["expected_status"] != status:
            continue
        if all(c["scan"].get(k) == v for k, v in scan.items()):
            return c
    raise LookupError(f"no planted case with reason={reason} status={status} {scan}")


def open_app(page, path="/"):
    page.goto(path)
    page.wait_for_selector("body[data-ready]", timeout=20000)


def sign_in(page, username, password="demo"):
    """Open the app and sign in through the login form."""
    open_app(page, "/#/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.login button[type=submit]")
    page.wait_for_selector("nav.tabs a", timeout=15000)


def wait_for_worker(page):
    """Wait until the service worker has precached the shell and controls the page."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    # A function, not an expression: Playwright evals a bare expression in the page, which its CSP forbids.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=20000)


def shoot(page, name):
    """Save a screenshot of what is on screen now, named by the viewport width."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    kind = "phone" if width < 600 else "desktop"
    page.wait_for_timeout(150)  # let transitions settle
    page.screenshot(path=str(SHOTS / f"{name}-{kind}.png"))


def scan_code(page, code):
    """Type a code on the scan screen and submit it; waits for the verdict banner."""
    page.goto("/#/scan")
    page.wait_for_selector("#code-input")
    page.fill("#code-input", code)
    page.click("form.manual button[type=submit]")
    page.wait_for_selector("section.verdict", timeout=20000)


A11Y_AUDIT = """
() => {
  const problems = [];
  const visible = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none' && !el.closest('[hidden]'); };
  // Targets: 48 px tall at least (inline text links are exempt, as WCAG allows).
  for (const el of document.querySelectorAll('button, .button, select, input:not([type=checkbox]):not([type=radio]):not([type=file]), textarea, nav a, summary, .log-table a, a.item-main, .tabs-local a, a.back')) {
    if (!visible(el) || el.closest('.visually-hidden')) continue;
    const r = el.getBoundingClientRect();
    if (r.height < 47.5) problems.push(`small target (${Math.round(r.height)}px): ${el.outerHTML.slice(0, 90)}`);
  }
  // Names for assistive technology.
  for (const el of document.querySelectorAll('button, a[href], input, select, textarea')) {
    if (!visible(el) && !el.classList.contains('visually-hidden')) continue;
    const id = el.id;
    const labelled = (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || (el.textContent || '').trim() ||
      (id && document.querySelector(`label[for="${id}"]`)) || el.closest('label') || el.getAttribute('title') ||
      (el.querySelector && el.querySelector('img[alt]:not([alt=""])')));
    if (!labelled) problems.push(`no accessible name: ${el.outerHTML.slice(0, 90)}`);
  }
  // Text contrast (WCAG 2.1 AA): 4.5:1, or 3:1 for large text.
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 4 ? c[3] > 0.5 : c.length === 3) return c.slice(0, 3); } return [255, 255, 255]; };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!el || seen.has(el) || !walker.currentNode.textContent.trim() || !visible(el) || el.closest('svg, .visually-hidden, option, dialog:not([open])')) continue;
    seen.add(el);
    const s = getComputedStyle(el);
    const fg = rgb(s.color).slice(0, 3), bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) problems.push(`contrast ${ratio.toFixed(2)}: "${walker.currentNode.textContent.trim().slice(0, 40)}"`);
  }
  return problems;
}
"""


def audit_a11y(page):
    """Problems on the current screen: small touch targets, unnamed controls, low-contrast text."""
    return page.evaluate(A11Y_AUDIT)


def without_offline_pack(ctx):
    """Keep the phone from fetching the offline verdict pack: for tests of what it does with none (a queued scan,
    the last known result). tests/e2e/test_offline.py tests the pack itself."""
    # Not ctx.route: routing turns off the HTTP cache, which tests that reload offline before the worker runs need.
    ctx.add_init_script("""(() => {
      const real = self.fetch.bind(self);
      self.fetch = (input, init) => (String(input.url || input).includes("/api/offline/")
        ? Promise.reject(new TypeError("offline pack blocked by the test")) : real(input, init));
    })();""")
