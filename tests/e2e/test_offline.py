"""The offline verdict pack in chromium with the network off (Playwright's set_offline): planted codes the phone
never scanned get their online verdict, unknown codes and bad label signatures fail, a tampered pack is refused, a
rotated key still verifies until revoked, and the server's second verdict at sync alerts on a difference."""
import pytest

from inspector.offline.signing import demo_signer

from .helpers import CHROMIUM_ARGS, GANZHOU, PHONE, case_with, shoot, sign_in, wait_for_worker  # noqa: F401
from .test_phone_layout import Walk, axe_source

MODULE = "/app/offline.js"
JUDGE = """async ([module, code, scan]) => {
  const m = await import(module);
  const v = await m.offlineVerdict(code, scan);
  return v && { status: v.verdict.status, reasons: v.verdict.reasons.map((r) => r.code).sort(),
                not_done: v.verdict.checks_not_done.map((c) => c.check), as_of: v.as_of };
}"""


@pytest.fixture(scope="module")
def offline_page(browser, server):
    """One inspector's phone for the module: signed in, pack fetched and verified, then the network cut."""
    ctx = browser.new_context(base_url=server, viewport=PHONE, geolocation=GANZHOU, permissions=["geolocation"],
                              locale="en-US", service_workers="allow")
    ctx.errors = []  # what the layout walk reports: uncaught page errors
    ctx.on("weberror", lambda e: ctx.errors.append(str(e.error)))
    page = ctx.new_page()
    sign_in(page, "inspector")
    wait_for_worker(page)
    got = page.evaluate("async (module) => { const m = await import(module); return !!(await m.refreshPack()); }",
                        MODULE)
    assert got, "the pack was fetched and its signature verified"
    ctx.set_offline(True)
    yield page
    ctx.close()


def judge(page, code, scan=None):
    return page.evaluate(JUDGE, [MODULE, code, scan or {}])


def test_never_scanned_planted_codes_get_their_online_verdict_offline(offline_page, demo_cases):
    checked = set()
    for case in demo_cases:
        if "cloned_code" in case["expected_reasons"]:
            continue  # needs the other sightings, on the server: said as a check not done
        got = judge(offline_page, case["code"], case["scan"])
        assert got is not None
        assert (got["status"], got["reasons"]) == (case["expected_status"], case["expected_reasons"]), case
        assert "cloned_code" in got["not_done"]
        checked |= set(case["expected_reasons"]) or {"pass"}
    # Every standing reason, every context reason, unknown and malformed codes, and the forged labels.
    assert checked >= {"producer_not_approved", "over_quota", "tainted_lineage", "retired_code", "mass_balance",
                       "late_reporting", "unverified_import", "in_transit", "disputed_holder", "unrecorded_transfer",
                       "quantity_mismatch", "no_export_record", "unknown_code", "malformed_code", "forged_label", "pass"}
    assert judge(offline_page, "RE2V5EXLBKA")["reasons"] == ["unknown_code"]


def test_a_tampered_pack_is_refused(offline_page):
    page = offline_page
    result = page.evaluate("""async (module) => {
      const m = await import(module);
      const key = "offline_pack:inspector";
      const kept = await REFI.idb.get("kv", key);
      const honest = kept.base.pack;
      // One batch's remaining mass raised by a digit: what a smuggler would want the phone to believe.
      await REFI.idb.put("kv", Object.assign({}, kept, { base: Object.assign({}, kept.base, { pack: honest.replace('"r":', '"r":9') }) }), key);
      m.forgetPack();
      const tampered = await m.offlineVerdict("RE2V5EXLBKA", {});
      const refused = await REFI.idb.get("kv", key + ":refused");
      await REFI.idb.put("kv", kept, key);
      m.forgetPack();
      const restored = await m.offlineVerdict("RE2V5EXLBKA", {});
      return { tampered, refused: !!refused, restored: !!restored };
    }""", MODULE)
    assert result == {"tampered": None, "refused": True, "restored": True}


def test_a_rotated_key_verifies_old_labels_until_it_is_revoked(offline_page, demo_cases):
    case = next(c for c in demo_cases if ";" in c["code"] and c["expected_status"] == "pass")
    code = case["code"].split(";")[0]
    old = demo_signer("D00").sign_label(code)
    result = offline_page.evaluate("""async ([module, code, sig]) => {
      const m = await import(module);
      const keys = (await m.currentPack()).keys;
      const revoked = keys.map((k) => (k.kid === "D00" ? Object.assign({}, k, { status: "revoked" }) : k));
      return [keys.find((k) => k.kid === "D00").status, await m.checkSignature(code, sig, keys),
              await m.checkSignature(code, sig, revoked)];
    }""", [MODULE, code, old])
    assert result == ["retired", "valid", "revoked_key"]
    assert judge(offline_page, f"{code};{old}", case["scan"])["status"] == "pass"
    assert judge(offline_page, f"{code};{old[:-2]}AA", case["scan"])["reasons"] == ["forged_label"]


def test_offline_verdict_screen_then_the_server_judges_again_and_alerts_on_a_difference(offline_page, demo_cases):
    page = offline_page
    case = case_with(demo_cases, reason="cloned_code")
    page.goto("/#/scan?demo=1")
    page.click(f"dialog.sheet[open] button.demo-case[data-code='{case['code']}']")
    page.wait_for_selector(".offline-as-of")
    assert page.inner_text(".offline-as-of").startswith("Offline verdict, as of")
    assert "exact list" in page.inner_text(".offline-as-of")
    assert "PASS" in page.inner_text("section.verdict").upper()
    assert "Not checked: Cloned code" in page.inner_text("ul.checks-not-done")
    shoot(page, "result-offline-verdict")
    # The offline verdict screen fits every width in every language (the layout walk's checks, axe included).
    verdict = page.evaluate("() => location.hash")
    walk = Walk(page, "inspector", "en", axe_source())
    walk.each_language([("result-offline-verdict", lambda: page.goto("/" + verdict), ".offline-as-of")])
    walk.language("en")
    page.goto("/#/scan")
    page.wait_for_selector("#code-input")
    page.context.set_offline(False)
    page.wait_for_selector(".alert-banner.fail", timeout=30000)
    assert "NOT PASS AS OFFLINE" in page.inner_text(".alert-banner").upper()
    page.click(".alert-banner a")
    page.wait_for_selector(".offline-differs")
    assert "Cloned code" in page.inner_text("ul.reasons")
    shoot(page, "result-offline-differs")
    differs = page.evaluate("() => location.hash")
    walk.each_language([("result-offline-differs", lambda: page.goto("/" + differs), ".offline-differs")])
    walk.language("en")
    walk.done()
