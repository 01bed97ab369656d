// The verdict: a banner readable in sunlight (colour, icon and word), every reason in plain words, the
// provenance back to the mine, the holders, the producer's quota, and one tap to log a finding.
import { display } from "../batchcode.js";
import { h, icon, mount } from "../dom.js";
import { ago, date, dateTime, num, reasonMessage, reasonTitle, t, term, tn } from "../i18n.js";
import { go, rejectionText, render } from "../main.js";
import { differs, offlineVerdict } from "../offline.js";
import { announce } from "../signal.js";
import { REFI, canLogFindings, isReviewer, refreshCounts, state } from "../state.js";

export function verdictBanner(status, sub) {
  const word = t("verdict." + status);
  return h("section.verdict." + status, { role: "status", "aria-label": t("verdict.label") + ": " + word },
    h("div.verdict-icon", icon(status)),
    h("div.verdict-text", h("p.verdict-word", word), sub ? h("p.verdict-sub", sub) : null));
}

export function reasonList(reasons) {
  if (!reasons.length) return h("p.all-clear", icon("pass"), t("result.no_reasons"));
  return h("ul.reasons", reasons.map((r) => h("li.reason." + r.severity,
    h("div.reason-head", icon(r.severity === "fail" ? "fail" : "warning"),
      h("strong", reasonTitle(r.code)),
      h("span.severity", t("severity." + r.severity))),
    h("p", reasonMessage(r)))));
}

function factRow(label, value) {
  return value === null || value === undefined || value === "" ? null : h("div.fact", h("dt", label), h("dd", value));
}

function batchCard(batch) {
  return h("section.card", { "aria-labelledby": "batch-h" },
    h("h2#batch-h", t("result.batch")),
    h("dl.facts",
      factRow(t("batch.code"), h("code", display(batch.code))),
      factRow(t("batch.product"), term("product", batch.product_type)),
      factRow(t("batch.stage"), term("stage", batch.stage)),
      factRow(t("batch.producer"), batch.producer_name || batch.producer_id),
      factRow(t("batch.produced_on"), date(batch.produced_on)),
      factRow(t("batch.mass"), `${num(batch.mass_kg, 1)} kg`),
      factRow(t("batch.remaining"), `${num(batch.remaining_kg, 1)} kg`),
      factRow(t("batch.reo"), batch.reo_pct != null ? `${num(batch.reo_pct, 1)} %` : null),
      factRow(t("batch.holder"), batch.holder_name || batch.holder_id),
      factRow(t("batch.status"), term("batch_status", batch.status))));
}

function gauge(cat) {
  const pct = Math.max(0, Number(cat.used_pct ?? (cat.allocated_t ? (cat.used_t / cat.allocated_t) * 100 : 0)));
  const over = pct > 100;
  const level = over ? "over" : pct >= 90 ? "high" : "ok";
  const width = Math.min(100, pct);
  return h("div.gauge." + level,
    h("div.gauge-head", h("strong", term("category", cat.category)), h("span", `${num(pct, 1)} %`)),
    h("svg", { viewBox: "0 0 100 10", preserveAspectRatio: "none", class: "gauge-bar", role: "img",
      "aria-label": t("quota.gauge_label", { used: num(cat.used_t), allocated: num(cat.allocated_t), pct: num(pct, 1) }) },
    h("rect", { x: 0, y: 0, width: 100, height: 10, class: "gauge-track" }),
    h("rect", { x: 0, y: 0, width, height: 10, class: "gauge-fill" }),
    h("line", { x1: 100, y1: 0, x2: 100, y2: 10, class: "gauge-limit" })),
    h("p.gauge-figures", t("quota.figures", { used: num(cat.used_t), allocated: num(cat.allocated_t), remaining: num(cat.remaining_t) })));
}

/** A card with nothing to show says why; the reason's figure (use when the batch was made) is told apart
 *  from the gauge's (use now). */
function quotaCard(quota, reasons = []) {
  if (!quota) return null;
  const within = quota.batch_within_quota;
  const cats = quota.categories || [];
  const notApproved = reasons.some((r) => r.code === "producer_not_approved");
  const own = cats.find((c) => c.category === quota.batch_category);
  const atProduction = quota.used_at_production_t;
  const explain = own && atProduction != null && Math.round(atProduction) !== Math.round(own.used_t)
    ? h("p.quota-explain", { role: "note" }, t("phone.quota_explain", { at: num(atProduction), now: num(own.used_t), allocated: num(own.allocated_t) })) : null;
  return h("section.card", { "aria-labelledby": "quota-h" },
    h("h2#quota-h", t("result.quota")),
    h("p", t("quota.lead", { name: quota.enterprise_name || "", year: quota.year || "" })),
    quota.applies === false ? h("p.muted", t("quota.not_applicable")) : null,
    quota.applies !== false && !cats.length
      ? h("p.empty-why", t(notApproved ? "phone.quota_not_whitelisted" : "phone.quota_none", { name: quota.enterprise_name || quota.enterprise_id || "", year: quota.year || "" })) : null,
    cats.map(gauge),
    explain,
    within === true ? h("p.ok-line", icon("pass"), t("quota.batch_within"))
      : within === false ? h("p.bad-line", icon("fail"), t("quota.batch_over")) : null);
}

export function provenanceCard(provenance, batch, reasons = [], quota = null) {
  if (!provenance) return null;
  // The batch's own step shows what the verdict found about it, never an assumed green check.
  const selfApproved = !reasons.some((r) => r.code === "producer_not_approved");
  const selfWithin = reasons.some((r) => r.code === "over_quota") || (quota && quota.batch_within_quota === false) ? false : null;
  const ancestors = [...(provenance.ancestors || [])].sort((a, b) => (a.generation ?? 0) - (b.generation ?? 0));
  const node = (a, isSelf) => {
    const approved = a.approved_on_production_date;
    const ok = approved !== false && a.within_quota !== false;
    return h("li.step" + (ok ? "" : ".bad"),
      h("div.step-dot", icon(ok ? "pass" : "fail", t(ok ? "provenance.ok" : "provenance.problem"))),
      h("div.step-body",
        h("p.step-title", h("strong", term("stage", a.stage)), h("span", term("product", a.product_type)),
          isSelf ? h("span.tag", t("provenance.this_batch")) : a.generation ? h("span.tag", t("provenance.generation", { n: a.generation })) : null),
        h("p", h("code", a.code), " · ", a.producer_name || a.producer_id, a.province ? ` (${term("province", a.province)})` : ""),
        h("p.muted", t("provenance.produced", { date: date(a.produced_on) }),
          a.mass_share_pct != null ? " · " + t("provenance.share", { pct: num(a.mass_share_pct, 1) }) : ""),
        approved === false ? h("p.bad-line", t("provenance.not_approved")) : null,
        a.within_quota === false ? h("p.bad-line", t("provenance.over_quota")) : null));
  };
  const mines = provenance.mines || [];
  const holders = provenance.holders || [];
  return [
    h("section.card", { "aria-labelledby": "prov-h" },
      h("h2#prov-h", t("result.provenance")),
      h("p.muted", !ancestors.length && (!batch || batch.stage === "ore" || !(batch.parents || []).length)
        ? t(batch && batch.stage === "ore" ? "phone.provenance_ore" : "phone.provenance_none")
        : t("provenance.lead", { generations: tn("unit.generations", provenance.depth ?? ancestors.length), mines: tn("unit.mines", mines.length) })),
      h("ol.timeline", batch ? node(Object.assign({}, batch, { approved_on_production_date: selfApproved, within_quota: selfWithin }), true) : null,
        ancestors.map((a) => node(a, false)))),
    holders.length ? h("section.card", { "aria-labelledby": "holders-h" },
      h("h2#holders-h", t("result.holders")),
      h("ol.timeline.holders", holders.map((m) => h("li.step",
        h("div.step-dot", icon("dot")),
        h("div.step-body",
          h("p.step-title", h("strong", term("event", m.event)), h("span", date(m.date))),
          h("p", [m.from_name, m.to_name].filter(Boolean).join(" → ")),
          h("p.muted", [m.mass_kg != null ? `${num(m.mass_kg, 1)} kg` : null, m.doc_no ? t("holders.doc", { doc: m.doc_no }) : null].filter(Boolean).join(" · "))))))) : null,
  ];
}

/** The checks the verdict could not be judged on (a clone needs a located, timed scan): said, never silent. */
export function checksNotDone(checks) {
  if (!checks || !checks.length) return null;
  return h("ul.reasons.checks-not-done", { "aria-label": t("verdict.checks_not_done") }, checks.map((c) => h("li.reason.warning",
    h("div.reason-head", icon("warning"), h("strong", t("check_not_done.title", { check: reasonTitle(c.check) }))),
    h("p", t("check_not_done." + c.reason)))));
}

/** The verdict screen body for one scan result (shared by history). */
export function resultBody(result, { asOf = null, record = null, offline = null } = {}) {
  const verdict = result.verdict || { status: "pass", reasons: [] };
  const reasons = verdict.reasons || [];
  const notDone = verdict.checks_not_done || [];
  const sub = reasons.length ? tn("verdict.reason_count", reasons.length)
    : t(notDone.length ? "verdict.no_reason_checks_not_done" : "verdict.no_reason");
  const code = (result.batch && result.batch.code) || result.code || (record && record.code) || "";
  return [
    verdictBanner(verdict.status, sub),
    asOf ? h("p.as-of", { role: "note" }, icon("pending"), t("result.as_of", { when: dateTime(asOf), ago: ago(asOf) })) : null,
    offline ? offlineNote(offline) : null,
    h("p.scanned-code", h("code", display(code)),
      result.codes && result.codes.length > 1 ? h("span.muted", " " + t("result.codes_on_label", { n: result.codes.length })) : null),
    h("div.result-grid",
      h("div", h("section.card", { "aria-labelledby": "reasons-h" }, h("h2#reasons-h", t("result.reasons")), reasonList(reasons),
        checksNotDone(notDone)),
        result.batch ? batchCard(result.batch) : null,
        quotaCard(result.quota, reasons)),
      h("div", provenanceCard(result.provenance, result.batch, reasons, result.quota),
        result.batch && isReviewer(state.session.role) ? h("p.row.wrap.trace-links",
          h("a.button.secondary", { href: "#/trace/batch/" + encodeURIComponent(result.batch.code) }, icon("history"), t("trace.open")),
          h("a.button.secondary", { href: "#/recall/" + encodeURIComponent(result.batch.code) }, icon("flag"), t("recall.open"))) : null)),
  ];
}

/** Says the verdict came from the phone's signed pack, how old the pack is, and how exact its list of codes is. */
function offlineNote(pack) {
  const codes = pack.codes || {};
  return h("div.offline-as-of", { role: "note" },
    h("p", icon("offline"), h("strong", t("offline.as_of", { when: dateTime(pack.as_of), ago: ago(pack.as_of) }))),
    h("p.muted", codes.exact ? t("offline.codes_exact", { n: num(codes.count || 0) })
      : t("offline.codes_filter", { n: num(codes.count || 0), rate: num((codes.false_positive_rate || 0) * 100, 3) })),
    h("p.muted", t("offline.rejudged")));
}

/** The server's verdict differs from the one this phone gave offline: said on the verdict itself. */
function differsNote(record) {
  if (!differs(record.offline_verdict, record.result)) return null;
  return h("p.offline-differs", { role: "alert" }, icon("warning"),
    t("offline.differs", { offline: t("verdict." + record.offline_verdict.status) }));
}

/** Where the scan was made: the fix it carried with its age and accuracy, or that it went without one. */
function locationLine(record) {
  if (!record || record.remote) return null;
  const loc = record.location;
  return h("p.scan-location.muted", { role: "note" }, icon("location"), h("span", loc
    ? t("phone.location_kept", { ago: ago(record.location_at || record.scanned_at), acc: loc.accuracy_m == null ? "?" : num(Math.round(loc.accuracy_m)) })
    : t("phone.location_none")));
}

function actions(record) {
  return h("div.sticky-actions" + (canLogFindings(state.session.role) ? ".two" : ""),
    canLogFindings(state.session.role) ? h("button.primary.big", { type: "button", onclick: () => go("#/finding?scan=" + encodeURIComponent(record.client_id)) }, icon("flag"), t("result.log_finding")) : null,
    h("button.secondary.big", { type: "button", onclick: () => go("#/scan") }, icon("scan"), t("result.scan_next")));
}

// Scans judged in the background while their own screen was open: their verdict is announced when it is painted.
const judgedWhileOpen = new Set();

export default async function resultView(ctx) {
  const clientId = ctx.route.parts[0];
  let record = await REFI.idb.get("scans", clientId);
  if (!record) return h("div.screen", h("h1", t("result.not_found")), h("a.button.secondary", { href: "#/scan" }, t("result.scan_next")));

  const waiting = record.state === "pending";
  if (record.state === "pending" && state.online) {
    try {
      await REFI.syncScan(record);
    } catch (err) {
      if (err instanceof REFI.SignedOutError) throw err;
    }
    record = await REFI.idb.get("scans", clientId);
    refreshCounts();
  }

  const wrap = h("div.screen.result");
  if (record.state === "sent" && record.result) {
    // The verdict that has just come in is told by sound and vibration too; opened again later, it is not.
    if (waiting || judgedWhileOpen.delete(clientId)) announce(record.result.verdict.status);
    mount(wrap, h("h1.visually-hidden", t("result.title")), differsNote(record), resultBody(record.result), locationLine(record), actions(record));
    return wrap;
  }
  if (record.state === "rejected") {
    const err = record.error || {};
    mount(wrap, h("h1", t("result.rejected_title")),
      h("div.card.error", h("p", rejectionText(err))),
      h("a.button.primary.big", { href: "#/scan" }, t("result.try_again")));
    return wrap;
  }
  // Not judged yet: offline, or the server could not be reached. Judge it from the signed pack if there is one,
  // else show the last known result for this code.
  const offline = record.code ? await offlineVerdict(record.code, record) : null;
  if (offline && ctx.token()) {
    const kept = { status: offline.verdict.status, reasons: offline.verdict.reasons.map((r) => r.code).sort().join(","),
      as_of: offline.as_of, version: offline.version };
    await REFI.idb.update("scans", clientId, (cur) => cur && Object.assign(cur, { offline_verdict: kept }));
  }
  const cached = !offline && record.code ? await REFI.cachedResult(record.code) : null;
  const queued = h("div.card.queued", { role: "status" },
    h("p.queued-title", icon("pending"), h("strong", t(cached || offline ? "result.queued_rejudge" : "result.queued"))),
    h("p", t("result.queued_text")),
    h("button.secondary", { type: "button", onclick: () => render({ fresh: true }) }, icon("sync"), t("outbox.sync_now")));
  if (offline) {
    mount(wrap, h("h1.visually-hidden", t("result.title")), resultBody(offline, { offline, record }), queued, locationLine(record), actions(record));
  } else if (cached) {
    mount(wrap, h("h1.visually-hidden", t("result.title")), queued, resultBody(cached.result, { asOf: cached.as_of, record }), actions(record));
  } else {
    mount(wrap, h("h1.visually-hidden", t("result.title")), verdictBanner("pending", t("verdict.pending_sub")),
      h("p.scanned-code", h("code", record.code ? display(record.code) : t("result.photo_only"))), queued, locationLine(record), actions(record));
  }
  // Re-render when the outbox sends this scan in the background.
  // The verdict that has just come in opens at the top, with its banner on screen.
  const onJudged = (e) => {
    if (!e.detail || e.detail.client_id !== clientId || !ctx.token()) return;
    judgedWhileOpen.add(clientId);
    render({ fresh: true });
  };
  self.addEventListener("refi:scan-judged", onJudged);
  ctx.onCleanup(() => self.removeEventListener("refi:scan-judged", onJudged));
  return wrap;
}
