// Monthly reporting as every screen shows it: a status in colour, icon and word, China-time deadlines, how late,
// and the months of one enterprise's record. Not a screen of its own: ledger.js and reporting.js share it.
import { h, icon } from "../dom.js";
import { currentLanguage, num, month, t, tn } from "../i18n.js";
import { state } from "../state.js";

export const STANDINGS = ["missing", "late", "open", "on_time"]; // worst first, as the server orders rows
const ICONS = { on_time: "pass", late: "warning", missing: "fail", open: "pending" };
// Deadlines are set in China time, so they are shown in China time wherever the reader is.
const CHINA = "Asia/Shanghai";

export function standingChip(status) {
  return h("span.standing", { class: STANDINGS.includes(status) ? status : null, dataset: { status } },
    icon(ICONS[status] || "dot"), h("span", STANDINGS.includes(status) ? t("standing." + status) : String(status)));
}

function chinaFormat(value, options) {
  if (!value) return "–";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleString(currentLanguage(), Object.assign({ timeZone: CHINA }, options));
}

export const chinaDate = (value) => chinaFormat(value, { year: "numeric", month: "short", day: "numeric" });
export const chinaDateTime = (value) => chinaFormat(value, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

/** "Oct 2026" for "2026-10", in the reader's language. */
export function shortMonth(period) {
  const m = /^(\d{4})-(\d{2})$/.exec(String(period || ""));
  if (!m) return period;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 15)).toLocaleDateString(currentLanguage(), { year: "numeric", month: "short", timeZone: "UTC" });
}

/** The month it is now in China, "YYYY-MM": the latest period the server answers for. */
export function chinaPeriod(now = new Date()) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: CHINA, year: "numeric", month: "2-digit" }).formatToParts(now);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}`;
}

/** The period n months after (or before) a "YYYY-MM" period. */
export function shiftPeriod(period, n) {
  const [y, m] = period.split("-").map(Number);
  const i = y * 12 + (m - 1) + n;
  return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, "0")}`;
}

export const isPeriod = (text) => /^\d{4}-(0[1-9]|1[0-2])$/.test(String(text || ""));

/** "9 hours late", "overdue by 12 days", "due in 3 days": how the month stands against its deadline. */
export function lateness(row) {
  if (row.status === "late" || row.status === "missing") {
    const hours = row.late_by_hours;
    if (hours === null || hours === undefined) return null;
    const amount = hours < 24 ? tn("standing.hours", Math.max(1, Math.round(hours))) : tn("standing.days", row.late_by_days || Math.ceil(hours / 24));
    return t(row.status === "late" ? "standing.late_by" : "standing.overdue_by", { amount });
  }
  if (row.status === "open" && row.deadline) {
    const days = Math.max(0, Math.ceil((new Date(row.deadline).getTime() - Date.now()) / 86400000));
    return t("standing.due_in", { amount: tn("standing.days", days) });
  }
  return null;
}

/** Counts per status as a row of small chips ("2 late · 1 missing ..."). */
export function countChips(counts) {
  return h("p.standing-counts", STANDINGS.filter((s) => counts && counts[s]).map((s) =>
    h("span.standing-count", { class: s }, icon(ICONS[s]), `${num(counts[s])} ${t("standing." + s)}`)));
}

/** One enterprise's months, newest first: status, deadline, when it was entered and how late. */
export function recordList(periods) {
  if (!periods || !periods.length) return h("p.empty", t("standing.no_months"));
  return h("ul.items.record", periods.map((p) => {
    const late = lateness(p);
    return h("li.item.record-month", { class: p.status, dataset: { period: p.period } },
      h("div.item-main",
        h("div.item-line", h("strong", month(p.period)), standingChip(p.status)),
        h("div.item-line.small", p.submitted_at
          ? t("standing.entered", { when: chinaDateTime(p.submitted_at) })
          : t("standing.not_entered")),
        h("div.item-line.small.muted", t("standing.deadline", { date: chinaDateTime(p.deadline) }),
          late ? h("span.lateness", { class: p.status }, "· " + late) : null)),
      h("div.item-side.small.muted", p.submissions ? tn("standing.submissions", p.submissions) : null));
  }));
}

/** Screens that need the server say so plainly when there is no network, instead of failing silently. */
export function offlineNote(what) {
  return h("div.card.offline-note", { role: "status" }, icon("offline"),
    h("div", h("strong", t("standing.offline_title")), h("p", t(what || "standing.offline_text"))));
}

export const online = () => state.online && navigator.onLine !== false;
