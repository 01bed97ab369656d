// The enterprise clerk's monthly ledger: the template, the upload (CSV, XLSX or ODS, all lines or none), the nil report
// for a month with nothing to report, the receipt in plain words, the month-by-month record and recent submissions.
// Everything here needs the server; offline, the screen says so instead of failing silently.
import { h, icon, mount, saveResponse, toast } from "../dom.js";
import { date, has, month, num, t, tn } from "../i18n.js";
import { appIcon, errorText } from "../main.js";
import { REFI, state, subscribe } from "../state.js";
import { chinaDateTime, chinaPeriod, lateness, offlineNote, online, recordList, shiftPeriod, standingChip } from "./standing.js";

const MONTHS_SHOWN = 12;
const RECENT = 10;
const HELD_SHOWN = 20;

// ---- the receipt -----------------------------------------------------------------------------------

const lineTitle = (code) => (has("ledger.error." + code) ? t("ledger.error." + code) : String(code || "").replace(/_/g, " "));
const flagTitle = (code) => (has("ledger.flag." + code) ? t("ledger.flag." + code) : String(code || "").replace(/_/g, " "));

function countTile(value, label, kind) {
  return h("div.tile.receipt-count", { class: kind || null }, h("span.tile-value", num(value)), h("span.tile-label", label));
}

function flagList(flags) {
  if (!flags || !flags.length) return null;
  return h("div.receipt-flags",
    h("h3.small", icon("warning"), tn("ledger.flags_title", flags.length)),
    h("p.muted.small", t("ledger.flags_lead")),
    h("ul.line-list", flags.map((f) => h("li.line-flag", { dataset: { code: f.code } },
      h("p.line-head", h("strong", flagTitle(f.code)),
        f.line ? h("span", t("ledger.line", { n: f.line })) : null,
        f.event_id ? h("code", f.event_id) : null),
      f.message ? h("p", f.message) : null))));
}

// What the server says of a problem, in the clerk's language: ledger.problem.<code> filled with its params (the
// file's column, the value as read); the server's English sentence stays underneath for the details.
function words(prefix, item) {
  const params = {};
  for (const [k, v] of Object.entries({ field: item.field, ...(item.params || {}) })) params[k] = v == null ? "" : v;
  return has(prefix + item.code) ? t(prefix + item.code, params) : item.message || String(item.code || "");
}

function warningList(receipt) {
  const warnings = receipt.warnings || [];
  if (!warnings.length) return null;
  return h("div.receipt-warnings",
    h("h3.small", icon("warning"), t("ledger.warnings_title")),
    h("p.muted.small", t("ledger.warnings_lead")),
    h("ul.line-list", warnings.map((w) => h("li.line-warning", { dataset: { code: w.code } },
      h("p", words("ledger.warning.", w))))));
}

function errorList(receipt) {
  const errors = receipt.errors || [];
  if (!errors.length) return null;
  return h("div.receipt-errors",
    errors.length < (receipt.rejected || 0) ? h("p.small", t("ledger.errors_first", { shown: num(errors.length), n: num(receipt.rejected) })) : null,
    h("div.scroll-list", { tabindex: "0", role: "region", "aria-label": t("ledger.errors_label") },
      h("ul.line-list", errors.map((e) => h("li.line-error", { dataset: { line: e.line, code: e.code } },
        h("p.line-head", h("strong", t("ledger.line", { n: e.line ?? "–" })),
          e.event_id ? h("code", e.event_id) : null,
          h("span.line-code", lineTitle(e.code)), e.field ? h("span.muted.small", e.field) : null),
        h("p.problem", words("ledger.problem.", e)),
        e.message && has("ledger.problem." + e.code) ? h("p.muted.small.server-message", e.message) : null)))));
}

function issuedCodes(receipt) {
  const entries = Object.entries(receipt.issued_codes || {});
  if (!entries.length) return null;
  return h("details.issued",
    h("summary", tn("ledger.issued", entries.reduce((n, [, codes]) => n + codes.length, 0))),
    h("ul.line-list", entries.map(([eventId, codes]) => h("li", h("code", eventId), " → ", codes.map((c) => h("code.issued-code", c + " "))))));
}

/** The receipt of one submission, accepted or turned down, in plain words. */
export function receiptCard(receipt, { fileName, nil } = {}) {
  const accepted = receipt.status === "accepted";
  const flags = receipt.flags || [];
  const title = !accepted ? t("ledger.rejected_title")
    : nil ? t("ledger.nil_done", { month: month((receipt.periods || [])[0] || "") })
      : t("ledger.accepted_title");
  return h("section.card.receipt", { class: accepted ? (flags.length ? "accepted flagged" : "accepted") : "rejected", dataset: { status: receipt.status } },
    h("div.receipt-banner", icon(accepted ? (flags.length ? "warning" : "pass") : "fail"),
      h("div", h("h2", { tabindex: "-1" }, title),
        fileName ? h("p.small", fileName) : null)),
    accepted
      ? h("p", t(nil ? "ledger.nil_lead" : "ledger.accepted_lead"))
      : h("p.nothing-stored", h("strong", tn("ledger.rejected_lead", receipt.rejected || (receipt.errors || []).length))),
    accepted && !nil ? h("div.tiles.receipt-tiles",
      countTile(receipt.accepted, t("ledger.accepted"), "ok"),
      countTile(receipt.duplicates, t("ledger.duplicates")),
      countTile(flags.length, t("ledger.flags"), flags.length ? "warn" : null)) : null,
    accepted && receipt.duplicates ? h("p.small", tn("ledger.duplicates_note", receipt.duplicates)) : null,
    accepted ? flagList(flags) : errorList(receipt),
    warningList(receipt),
    accepted ? issuedCodes(receipt) : null,
    h("p.muted.small.receipt-meta",
      (receipt.periods || []).length ? t("ledger.months_filed", { months: receipt.periods.map(month).join(", ") }) + " · " : "",
      t("ledger.receipt_meta", { when: chinaDateTime(receipt.received_at), id: receipt.submission_id || "–" })));
}

/** A refusal that comes without a receipt (409, 413, 415, a bad file): the server's sentence as given. */
function refusalCard(err, fileName) {
  let text;
  if (err instanceof REFI.OfflineError) text = t("ledger.offline_not_sent");
  else if (err instanceof REFI.ApiError) text = (err.body && err.body.message) || (err.status === 413 ? t("ledger.too_large") : errorText(err));
  else text = errorText(err);
  return h("section.card.receipt.rejected", { dataset: { status: "refused" } },
    h("div.receipt-banner", icon(err instanceof REFI.OfflineError ? "offline" : "fail"),
      h("div", h("h2", { tabindex: "-1" }, t(err instanceof REFI.OfflineError ? "ledger.not_sent_title" : "ledger.refused_title")),
        fileName ? h("p.small", fileName) : null)),
    h("p.refusal", text),
    err instanceof REFI.OfflineError ? null : h("p.nothing-stored.small", t("ledger.nothing_stored")));
}

function showResult(box, card) {
  mount(box, card);
  const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  box.scrollIntoView({ behavior: still ? "auto" : "smooth", block: "start" });
  const heading = card.querySelector("h2");
  if (heading) heading.focus({ preventScroll: true });
}

// ---- the sections --------------------------------------------------------------------------------

async function download(kind) {
  if (!online()) {
    toast(t("standing.offline_text"), "warn");
    return;
  }
  try {
    const res = await REFI.authFetch("/api/ledger/template." + kind);
    if (!res.ok) throw new REFI.ApiError(res.status, await REFI.readBody(res));
    const name = await saveResponse(res, "ledger-template." + kind);
    toast(t("export.done", { name }), "ok");
  } catch (err) {
    if (err instanceof REFI.SignedOutError) throw err;
    toast(errorText(err), "error");
  }
}

function periodSelect(id, periods, withNone) {
  return h("select", { id, name: "period" },
    withNone ? h("option", { value: "" }, t("ledger.period_none")) : null,
    periods.map((p, i) => h("option", { value: p, selected: i === 0 }, month(p))));
}

function uploadCard(periods, box, refresh) {
  const input = h("input.visually-hidden", { type: "file", id: "ledger-file", name: "file",
    accept: ".csv,.xlsx,.ods,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,application/vnd.oasis.opendocument.spreadsheet" });
  const chosen = h("p.chosen-file", { "aria-live": "polite" }, t("ledger.no_file"));
  const period = periodSelect("ledger-upload-period", periods, true);
  const send = h("button.primary.big", { type: "submit", disabled: true }, appIcon("upload"), t("ledger.upload"));
  input.addEventListener("change", () => {
    const file = input.files[0];
    send.disabled = !file;
    mount(chosen, file ? [icon("pass"), h("span", t("ledger.chosen", { name: file.name, kb: num(file.size / 1024, 1) }))] : t("ledger.no_file"));
  });
  const form = h("form.card.ledger-upload", {
    onsubmit: async (e) => {
      e.preventDefault();
      const file = input.files[0];
      if (!file) return;
      if (!online()) {
        showResult(box, refusalCard(new REFI.OfflineError(), file.name));
        return;
      }
      const body = new FormData();
      body.append("file", file, file.name);
      if (period.value) body.append("period", period.value);
      send.disabled = true;
      mount(box, h("p.card.working", { role: "status" }, icon("sync"), t("ledger.checking", { name: file.name })));
      try {
        const { body: receipt } = await REFI.api("/api/ledger/uploads", { method: "POST", body });
        showResult(box, receiptCard(receipt, { fileName: file.name }));
        toast(t("ledger.accepted_toast", { n: receipt.accepted }), "ok");
        input.value = "";
        send.disabled = true;
        mount(chosen, t("ledger.no_file"));
        refresh();
      } catch (err) {
        if (err instanceof REFI.SignedOutError) throw err;
        const receipt = err instanceof REFI.ApiError && err.status === 422 && err.body && err.body.errors && err.body.errors.receipt;
        showResult(box, receipt ? receiptCard(receipt, { fileName: file.name }) : refusalCard(err, file.name));
        if (receipt) refresh();
        send.disabled = false;
      }
    },
  },
  h("h2", t("ledger.upload_title")),
  h("p", t("ledger.upload_lead")),
  h("label.button.secondary.big.file-pick", { for: input.id }, appIcon("file"), t("ledger.choose_file")), input, chosen,
  h("div.field", h("label", { for: period.id }, t("ledger.period_label")), period, h("p.hint", t("ledger.period_hint"))),
  send);
  return form;
}

function templateCard() {
  return h("section.card.ledger-template",
    h("h2", t("ledger.template_title")),
    h("p", t("ledger.template_lead")),
    h("div.row.wrap",
      h("button.secondary", { type: "button", dataset: { template: "csv" }, onclick: () => download("csv") }, icon("download"), t("ledger.template_csv")),
      h("button.secondary", { type: "button", dataset: { template: "xlsx" }, onclick: () => download("xlsx") }, icon("download"), t("ledger.template_xlsx"))),
    h("p.hint", t("ledger.template_hint")));
}

function nilCard(periods, box, refresh) {
  const period = periodSelect("ledger-nil-period", periods, false);
  const send = h("button.secondary.big", { type: "submit" }, icon("pass"), t("ledger.nil_button"));
  return h("form.card.ledger-nil", {
    onsubmit: async (e) => {
      e.preventDefault();
      if (!online()) {
        showResult(box, refusalCard(new REFI.OfflineError()));
        return;
      }
      if (!confirm(t("ledger.nil_confirm", { month: month(period.value), enterprise: state.session.enterprise_id || "" }))) return;
      send.disabled = true;
      try {
        const { body: receipt } = await REFI.api("/api/ledger/submissions", { method: "POST", json: { period: period.value, events: [] } });
        showResult(box, receiptCard(receipt, { nil: true }));
        toast(t("ledger.nil_done", { month: month(period.value) }), "ok");
        refresh();
      } catch (err) {
        if (err instanceof REFI.SignedOutError) throw err;
        const receipt = err instanceof REFI.ApiError && err.status === 422 && err.body && err.body.errors && err.body.errors.receipt;
        showResult(box, receipt ? receiptCard(receipt) : refusalCard(err));
      } finally {
        send.disabled = false;
      }
    },
  },
  h("h2", t("ledger.nil_title")),
  h("p", t("ledger.nil_text")),
  h("div.field", h("label", { for: period.id }, t("ledger.nil_period")), period),
  send);
}

function dueCard(record) {
  const due = record && record.periods && record.periods[0];
  if (!due) return null;
  const late = lateness(due);
  return h("section.card.due-card", { class: due.status, dataset: { period: due.period } },
    h("p.due-title", t("ledger.due_title", { month: month(due.period) })),
    h("div.row.wrap", standingChip(due.status), late ? h("span.lateness", { class: due.status }, late) : null),
    h("p.small", t("ledger.due_by", { date: chinaDateTime(due.deadline) })),
    due.submitted_at ? h("p.small", t("standing.entered", { when: chinaDateTime(due.submitted_at) })) : null,
    h("p.muted.small", t("reporting.china_time")));
}

function submissionItem(r) {
  const nil = r.channel === "json" && !r.events;
  const accepted = r.status === "accepted";
  return h("li.item.submission", { dataset: { submission: r.submission_id, status: r.status } },
    h("details.item-main",
      h("summary",
        h("span.item-line", h("span.receipt-chip", { class: accepted ? "accepted" : "rejected" }, icon(accepted ? "pass" : "fail"), t(accepted ? "ledger.status_accepted" : "ledger.status_rejected")),
          h("strong", nil ? t("ledger.channel_nil") : t("ledger.channel_" + (["csv", "xlsx", "ods", "json", "epcis"].includes(r.channel) ? r.channel : "other"))),
          h("time.muted", { datetime: r.received_at }, chinaDateTime(r.received_at))),
        h("span.item-line.small", nil
          ? t("ledger.months_filed", { months: (r.periods || []).map(month).join(", ") || "–" })
          : accepted
            ? t("ledger.submission_counts", { accepted: num(r.accepted), duplicates: num(r.duplicates), flags: num((r.flags || []).length) })
            : tn("ledger.rejected_lines", r.rejected || 0))),
      receiptCard(r, { nil })));
}

async function recordSection(id) {
  const card = h("section.card.ledger-record", h("h2", t("ledger.record_title")));
  try {
    const { body } = await REFI.api(`/api/reporting/enterprises/${encodeURIComponent(id)}?months=${MONTHS_SHOWN}`);
    card.append(h("p.muted.small", t("reporting.china_time")), recordList(body.periods));
    return { card, body };
  } catch (err) {
    if (err instanceof REFI.SignedOutError) throw err;
    card.append(h("p.error", icon("warning"), errorText(err)));
    return { card, body: null };
  }
}

async function submissionsSection() {
  const card = h("section.card.ledger-submissions", h("h2", t("ledger.submissions_title")));
  try {
    const { body } = await REFI.api(`/api/ledger/submissions?limit=${RECENT}`);
    card.append(body.length ? h("ul.items.submissions", body.map(submissionItem)) : h("p.empty", t("ledger.no_submissions")));
  } catch (err) {
    if (err instanceof REFI.SignedOutError) throw err;
    card.append(h("p.error", icon("warning"), errorText(err)));
  }
  return card;
}

// The batches the clerk's enterprise holds (GET /api/batches answers only its own), to check codes and masses
// against before a file is sent.
async function heldSection() {
  const card = h("section.card.ledger-held", h("h2", t("ledger.held_title")));
  try {
    const { body } = await REFI.api(`/api/batches?limit=${HELD_SHOWN}&status=active`);
    const rows = body.batches || [];
    card.append(rows.length
      ? h("ul.items.held-batches", rows.map((b) => h("li.item.held-batch", { dataset: { code: b.code } },
        h("span.item-line", h("code", b.code), h("span.muted.small", b.stage + " · " + (b.product_type || ""))),
        h("span.item-line.small", t("ledger.held_line", { kg: num(b.remaining_kg), date: date(b.produced_on) })))))
      : h("p.empty", t("ledger.held_none")),
    body.next_after ? h("p.muted.small", t("ledger.held_more", { n: num(rows.length) })) : null,
    h("p.muted.small", t("reporting.china_time")));
  } catch (err) {
    if (err instanceof REFI.SignedOutError) throw err;
    card.append(h("p.error", icon("warning"), errorText(err)));
  }
  return card;
}

export default async function ledgerView(ctx) {
  const id = state.session.enterprise_id;
  const due = shiftPeriod(chinaPeriod(), -1);
  const periods = Array.from({ length: MONTHS_SHOWN }, (_, i) => shiftPeriod(due, -i));
  const box = h("div.receipt-box", { "aria-live": "polite" });
  const offline = h("div.offline-slot");
  const dueSlot = h("div.due-slot");
  const side = h("div.ledger-side");

  const paintOffline = () => mount(offline, online() ? null : offlineNote("ledger.offline_text"));
  const refresh = async () => {
    if (!online()) return;
    try {
      const [{ card, body }, submissions, held] = await Promise.all([recordSection(id), submissionsSection(), heldSection()]);
      if (!ctx.token()) return;
      mount(dueSlot, dueCard(body));
      mount(side, card, held, submissions);
    } catch (err) { /* signed out meanwhile: the session handler in main.js takes over */ }
  };
  paintOffline();
  const unsubscribe = subscribe(() => {
    const was = offline.childElementCount > 0;
    paintOffline();
    if (was && online()) refresh();
  });
  ctx.onCleanup(unsubscribe);

  if (online()) await refresh();
  else mount(side, h("section.card", h("h2", t("ledger.record_title")), h("p.muted", t("standing.offline_text"))));

  return h("div.screen.wide.ledger",
    h("h1", t("ledger.title")),
    h("p.lead", t("ledger.lead", { enterprise: id || "" })),
    offline,
    h("div.ledger-grid",
      h("div.ledger-main", dueSlot, uploadCard(periods, box, refresh), box, nilCard(periods, box, refresh), templateCard()),
      side));
}
