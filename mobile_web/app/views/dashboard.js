// The supervisor's dashboard: counts by status, findings by reason and by week, and the overdue responses.
import { barChart, columnChart } from "../charts.js";
import { h, icon } from "../dom.js";
import { date, num, t, term } from "../i18n.js";
import { deadlineText, discrepancyName, exportButtons, statusChip } from "../findings-ui.js";
import { REFI } from "../state.js";

const STATUS_ORDER = ["submitted", "confirmed", "awaiting_response", "responded", "resolved", "dismissed"];

/** The Monday of an ISO week "2025-W08". */
function mondayOf(week) {
  const [year, w] = week.split("-W").map(Number);
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const monday = new Date(jan4.getTime() - ((jan4.getUTCDay() + 6) % 7) * 86400000);
  return new Date(monday.getTime() + (w - 1) * 7 * 86400000);
}

function isoWeek(date) {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  d.setUTCDate(d.getUTCDate() + 3 - ((d.getUTCDay() + 6) % 7));
  const year = d.getUTCFullYear();
  const week = 1 + Math.round((d.getTime() - new Date(Date.UTC(year, 0, 4)).getTime()) / 604800000 - 3 / 7 + ((new Date(Date.UTC(year, 0, 4)).getUTCDay() + 6) % 7) / 7);
  return `${year}-W${String(week).padStart(2, "0")}`;
}

/** Weeks with no findings still get a (zero) column, so the time axis is even. */
function continuousWeeks(rows) {
  if (rows.length < 2) return rows;
  const counts = new Map(rows.map((r) => [r.week, r.count]));
  const sorted = [...counts.keys()].sort();
  const out = [];
  for (let d = mondayOf(sorted[0]), end = mondayOf(sorted[sorted.length - 1]); d <= end && out.length < 260; d = new Date(d.getTime() + 604800000)) {
    const week = isoWeek(d);
    out.push({ week, count: counts.get(week) || 0 });
  }
  return out;
}

export default async function dashboardView() {
  const [{ body: stats }, { body: overdue }] = await Promise.all([
    REFI.api("/api/inspections/stats"),
    REFI.api("/api/inspections?overdue=true&sort=deadline&page_size=20"),
  ]);
  const reasons = Object.entries(stats.by_reason || {}).map(([code, value]) => ({ label: discrepancyName(code), value }))
    .sort((a, b) => b.value - a.value);
  const weeks = continuousWeeks(stats.by_week || []).map((w) => ({ label: w.week, short: w.week.replace(/^\d{4}-/, ""), value: w.count }));
  const provinces = Object.entries(stats.by_province || {}).map(([label, value]) => ({ label: term("province", label), value })).sort((a, b) => b.value - a.value);

  return h("div.screen.wide.dashboard",
    h("div.row.between.wrap", h("h1", t("dashboard.title")), exportButtons(new URLSearchParams())),
    h("section.tiles", { "aria-label": t("dashboard.by_status") },
      h("a.tile", { href: "#/log" }, h("span.tile-value", num(stats.total)), h("span.tile-label", t("dashboard.total"))),
      h("a.tile.alert", { href: "#/log?overdue=true" }, h("span.tile-value", num(stats.overdue)), h("span.tile-label", t("dashboard.overdue"))),
      STATUS_ORDER.map((s) => h("a.tile", { href: "#/log?status=" + s }, h("span.tile-value", num((stats.by_status || {})[s] || 0)), h("span.tile-label", t("status." + s))))),
    h("div.chart-grid",
      h("section.card", reasons.length ? barChart(t("dashboard.by_reason"), reasons, { labelHead: t("log.discrepancies"), valueHead: t("dashboard.findings") }) : h("p.empty", t("log.empty"))),
      h("section.card", weeks.length ? columnChart(t("dashboard.by_week"), weeks, { labelHead: t("dashboard.week"), valueHead: t("dashboard.findings") }) : h("p.empty", t("log.empty"))),
      provinces.length ? h("section.card", barChart(t("dashboard.by_province"), provinces, { labelHead: t("dashboard.province"), valueHead: t("dashboard.findings") })) : null),
    h("section.card", { "aria-labelledby": "overdue-h" },
      h("h2#overdue-h", icon("warning"), t("dashboard.overdue_list")),
      overdue.length ? h("ul.items", overdue.map((f) => h("li.item",
        h("a.item-main", { href: "#/case/" + encodeURIComponent(f.id) },
          h("div.item-line", h("strong", f.enterprise_name || f.enterprise_id), statusChip(f.status)),
          h("div.item-line.small", (f.discrepancies || []).map(discrepancyName).join(", ")),
          h("div.item-line.muted", t("log.observed"), ": ", date(f.observed_at))),
        h("div.item-side", deadlineText(f))))) : h("p.empty", t("dashboard.none_overdue"))));
}
