// The supervisor's dashboard: counts by status, findings by reason and by week, and the overdue responses.
import { barChart, columnChart } from "../charts.js";
import { h, icon } from "../dom.js";
import { date, num, t } from "../i18n.js";
import { deadlineText, discrepancyName, exportButtons, statusChip } from "../findings-ui.js";
import { REFI } from "../state.js";

const STATUS_ORDER = ["submitted", "confirmed", "awaiting_response", "responded", "resolved", "dismissed"];

export default async function dashboardView() {
  const [{ body: stats }, { body: overdue }] = await Promise.all([
    REFI.api("/api/inspections/stats"),
    REFI.api("/api/inspections?overdue=true&sort=deadline&page_size=20"),
  ]);
  const reasons = Object.entries(stats.by_reason || {}).map(([code, value]) => ({ label: discrepancyName(code), value }))
    .sort((a, b) => b.value - a.value);
  const weeks = (stats.by_week || []).map((w) => ({ label: w.week, short: w.week.replace(/^\d{4}-/, ""), value: w.count }));
  const provinces = Object.entries(stats.by_province || {}).map(([label, value]) => ({ label, value })).sort((a, b) => b.value - a.value);

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
