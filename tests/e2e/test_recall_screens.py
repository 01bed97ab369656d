"""The trace, recall and task screens in a browser, on the planted recall case (seed/recall_case.py).

A supervisor traces a magnet-bound oxide back to the illegal ore and on to the magnet's holder, opens the recall of
the ore (its reached batches, shares, holders on the map, a CSV export) and sends inspectors out from it; an inspector
opens "My tasks", loses the network, scans a task's batch (queued in the outbox) and, back online, the item is done.
Each screen set is walked once, on one page, at 320/360/390 px and a desktop in four languages, with axe-core and the
layout checks of test_phone_layout, and the app's own touch-target and contrast audit in English.
"""
import pytest

from seed.recall_case import CODES

from .helpers import audit_a11y, wait_for_worker
from .test_phone_layout import LANGUAGES, axe, nav, start  # noqa: F401 - axe is a fixture

pytestmark = pytest.mark.browser


def _audit(walk, screen):
    problems = audit_a11y(walk.page)
    walk.problems += [f"{walk.role}/{walk.lang}/{screen}: {p}" for p in problems]


def test_supervisor_traces_recalls_and_sends_inspectors(new_context, api, axe):  # noqa: F811
    walk = start(new_context, "supervisor", axe)
    page = walk.page
    page.set_viewport_size({"width": 390, "height": 844})

    # The trace of the oxide that went into the magnet: the ore is where the problem entered, the magnet is downstream.
    page.goto(f"/#/trace/batch/{CODES['OXB']}")
    page.wait_for_selector(".trace-source")
    assert page.get_attribute(".trace-source", "data-code") == CODES["BAD"]
    assert "Producer not approved" in page.inner_text(".trace-source")
    generations = page.eval_on_selector_all(".lineage-gen", "els => els.map(e => e.dataset.generation)")
    assert generations == ["-2", "-1", "0", "1"], generations  # the ores, the blended oxide, this one, the magnet
    downstream = page.locator(".lineage-gen[data-generation='1'] .lineage-node")
    assert downstream.get_attribute("data-code") == CODES["MAG"] and "Baotou Metals Market" in downstream.inner_text()
    assert not page.is_visible(".lineage-graph")  # a phone reads the list; the drawing needs a desktop
    page.set_viewport_size({"width": 1366, "height": 900})
    assert page.is_visible(".lineage-graph") and page.locator(".lineage-box.failing").count() == 1
    page.set_viewport_size({"width": 390, "height": 844})
    _audit(walk, "trace")

    # The recall of the ore: six reached batches, the blend with clean metal at 6%, four holders on the map.
    page.click(".trace-source a[href^='#/recall/']")
    page.wait_for_selector(".recall-row")
    assert page.locator(".recall-row").count() == 6
    assert "6% from the source" in page.inner_text(f".recall-row[data-code='{CODES['MIX']}']")
    assert page.locator(".map-point").count() == 4 and page.locator(".holders-list li").count() == 4
    with page.expect_download() as download:
        page.click(".export-row button[data-format=csv]")
    assert CODES["MIX"] in open(download.value.path(), encoding="utf-8-sig").read()
    _audit(walk, "recall")

    # Filtered to what is still in circulation, then sent out: one task per holder, and the progress appears.
    page.click(".recall-filters summary")
    page.select_option(".recall-filters select[name=status]", "active")
    page.click(".recall-filters button[type=submit]")
    page.wait_for_function("() => document.querySelectorAll('.recall-row').length === 3")
    assert "status=active" in page.evaluate("() => location.hash")  # a filtered list has its own address
    page.click(".send-box summary")
    page.fill(".send-form input[name=assignees]", "nobody")  # the server's refusal, in the reader's words
    page.click(".send-form button[type=submit]")
    page.wait_for_selector(".send-form .form-error >> text=active inspectors only")
    page.fill(".send-form input[name=assignees]", "inspector")
    page.click(".send-form button[type=submit]")
    page.wait_for_selector(".recall-progress .task-card", timeout=20000)
    assert page.locator(".recall-progress .task-card").count() == 3
    assert page.inner_text(".recall-progress .tile[data-stat=open] .tile-value") == "3"
    _audit(walk, "recall-progress")

    # From a row of the risk ranking: a task for the enterprise's batches, to its province's pool.
    page.goto("/#/tasks?origin=risk&ref=ENT-BMM&pool=Inner%20Mongolia")
    page.select_option(".send-card select[name=pool]", "Inner Mongolia")
    page.click(".send-card button[type=submit]")
    page.wait_for_selector(".tasks-screen:not(:has(.send-card)) .task-card >> text=In the Inner Mongolia pool")
    _audit(walk, "tasks")
    page.locator(".tasks-screen .task-card", has_text="In the Inner Mongolia pool").locator("button.task-status").click()
    page.wait_for_selector(".tasks-screen .task-card[data-status=cancelled]")  # cancelled with the ETag it read

    def recall_with_progress():
        page.goto(f"/#/recall/{CODES['BAD']}")
        page.wait_for_selector(".recall-progress .task-card")

    walk.each_language([
        ("trace", nav(page, f"#/trace/batch/{CODES['OXB']}"), ".lineage-gen"),
        ("recall", recall_with_progress, ".map-point"),
        ("tasks", nav(page, "#/tasks"), ".tasks-screen .task-card")])
    walk.language("en")
    walk.done()
    tasks = api.call("GET", f"/api/tasks?origin_ref={CODES['BAD']}", user="supervisor")
    assert sorted(t["enterprise_id"] for t in tasks) == ["ENT-BMM", "ENT-GMT", "ENT-RRS"]
    pool = api.call("GET", "/api/tasks?origin_ref=ENT-BMM", user="supervisor")
    assert [(t["pool"], t["pool_province"], t["status"]) for t in pool] == [(True, "Inner Mongolia", "cancelled")]


def test_inspector_works_my_tasks_offline_and_the_scan_completes_the_item(new_context, api, axe):  # noqa: F811
    made = api.call("POST", "/api/tasks", {"origin": {"type": "batches", "ref": "ENT-BMM", "batch_codes": [CODES["MAG"]]},
                                          "assignees": ["inspector2"], "title": "Magnet check at Baotou"},
                    user="supervisor")["tasks"][0]
    pool = api.call("POST", "/api/tasks", {"origin": {"type": "batches", "ref": "ENT-GMT", "batch_codes": [CODES["MIX"]]},
                                          "pool_province": "Jiangxi"}, user="supervisor")["tasks"][0]
    walk = start(new_context, "inspector2", axe)
    page = walk.page
    page.goto("/#/tasks")
    item = f".my-task[data-task='{made['id']}'] .my-item[data-code='{CODES['MAG']}']"
    page.wait_for_selector(item + "[data-state=open]")
    _audit(walk, "my-tasks")
    # A pool task is taken (If-Match the ETag read): it is mine now, and the button is gone.
    page.click(f".my-task[data-task='{pool['id']}'] button:has-text('Take this task')")
    page.wait_for_selector(f".my-task[data-task='{pool['id']}']:not(:has(button:has-text('Take this task')))")
    assert api.call("GET", f"/api/tasks/{pool['id']}", user="supervisor")["claimed_by"]
    wait_for_worker(page)

    ctx = page.context
    ctx.set_offline(True)
    page.wait_for_selector(".net.offline")
    page.reload()  # the app itself comes from the service worker, the list from the phone
    page.wait_for_selector(".tasks-as-of .icon")  # the list kept on the phone, marked as such
    assert page.locator(item + "[data-state=open]").count() == 1
    assert "Offline" in page.inner_text(".tasks-as-of")
    page.click(item + " button")
    page.wait_for_selector("section.verdict.pending")  # queued in the outbox
    page.goto("/#/tasks")
    page.wait_for_selector(item + "[data-state=queued]")
    walk.each_language([("my-tasks-offline", nav(page, "#/tasks"), item + "[data-state=queued]")])
    walk.language("en")

    ctx.set_offline(False)
    page.wait_for_selector(".net.online")
    page.goto("/#/history")
    page.wait_for_function("() => !document.querySelector('header a.pending:not([hidden])')", timeout=30000)  # sent
    page.goto("/#/tasks")
    page.wait_for_selector(item, state="detached", timeout=20000)  # done: off the list of open tasks
    task = api.call("GET", f"/api/tasks/{made['id']}", user="supervisor")
    assert task["status"] == "done" and task["items"][0]["status"] == "done" and task["items"][0]["scan_ids"]
    walk.done()
