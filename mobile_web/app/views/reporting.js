// Supervisors: who entered a month's ledger on time, late or not at all (worst first), and one enterprise's
// record over the last twelve months. The period and the status filter live in the URL.
import { h, icon, mount } from "../dom.js";
import { month, num, t, term } from "../i18n.js";
import { appIcon, errorText, go } from "../main.js";
import { REFI } from "../state.js";
import { STANDINGS, chinaDateTime, chinaPeriod, countChips, isPeriod, lateness, offlineNote, online, recordList, shiftPeriod, standingChip } from "./standing.js";

/** The oversight screens share one tab; this switches between them. */
export function oversightTabs(current) {
  return h("nav.segmented.tabs-local", { "aria-label": t("reporting.views") },
    [["reporting", "calendar", "reporting.tab"], ["risk", "flag", "risk.tab"], ["trace", "history", "trace.tab"], ["tasks", "list", "tasks.tab"]].map(([name, ic, key]) => h("a", {
      href: "#/" + name, class: name === current ? "active" : null, "aria-current": name === current ? "page" : null,
    }, appIcon(ic), t(key))));
}

function periodForm(period, status) {
  const latest = chinaPeriod();
  const input = h("input", { type: "month", id: "rep-period", name: "period", value: period, max: latest, min: "2000-01", required: true, pattern: "\\d{4}-\\d{2}" });
  const link = (p) => {
    const q = new URLSearchParams({ period: p });
    if (status) q.set("status", status);
    return "#/reporting?" + q;
  };
  const problem = h("p.form-error", { role: "alert", id: "rep-period-error" });
  const form = h("form.period-form", {
    novalidate: true,
    onsubmit: (e) => {
      e.preventDefault();
      const value = input.value.trim();
      if (!isPeriod(value)) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", problem.id);
        problem.textContent = t("phone.pick_month");
        input.focus();
        return;
      }
      go(link(value));
    },
  },
  h("div.field", h("label", { for: input.id }, t("reporting.period")), input, problem),
  h("div.period-buttons",
    h("a.button.secondary.period-step", { href: link(shiftPeriod(period, -1)), "aria-label": t("reporting.previous_month", { month: month(shiftPeriod(period, -1)) }) },
      icon("back"), h("span.step-label", t("reporting.previous"))),
    h("button.primary", { type: "submit" }, t("reporting.show")),
    period < latest
      ? h("a.button.secondary.period-step", { href: link(shiftPeriod(period, 1)), "aria-label": t("reporting.next_month", { month: month(shiftPeriod(period, 1)) }) },
        h("span.step-label", t("reporting.next")), h("span.flip", icon("back")))
      : h("button.secondary.period-step", { type: "button", disabled: true, "aria-label": t("reporting.next") }, h("span.step-label", t("reporting.next")), h("span.flip", icon("back")))));
  return form;
}

function statusTiles(body, status) {
  const counts = body.counts || {};
  const all = STANDINGS.reduce((sum, s) => sum + (counts[s] || 0), 0);
  const href = (s) => {
    const q = new URLSearchParams({ period: body.period });
    if (s) q.set("status", s);
    return "#/reporting?" + q;
  };
  const tile = (s, value, label) => h("a.tile.standing-tile", {
    href: href(s), class: s || "all", "aria-current": (status || "") === (s || "") ? "true" : null,
  }, h("span.tile-value", num(value)), h("span.tile-label", s ? icon({ on_time: "pass", late: "warning", missing: "fail", open: "pending" }[s]) : null, " ", label));
  return h("nav.tiles.standing-tiles", { "aria-label": t("reporting.filter") },
    tile(null, all, t("reporting.all")),
    STANDINGS.map((s) => tile(s, counts[s] || 0, t("standing." + s))));
}

function complianceTable(items) {
  const heads = ["reporting.enterprise", "reporting.status", "reporting.submitted", "reporting.how_late"];
  return h("table.log-table.compliance-table",
    h("thead", h("tr", heads.map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", items.map((r) => h("tr", { class: "standing-row " + r.status, dataset: { enterprise: r.enterprise_id } },
      h("td.who", { "data-label": t("reporting.enterprise") }, h("div",
        h("a", { href: "#/reporting/" + encodeURIComponent(r.enterprise_id) }, r.enterprise_name || r.enterprise_id),
        h("span.muted.small.block-line", [r.enterprise_id, r.province && term("province", r.province)].filter(Boolean).join(" · ")))),
      h("td.status", { "data-label": t("reporting.status") }, standingChip(r.status)),
      h("td.when", { "data-label": t("reporting.submitted") }, r.submitted_at ? chinaDateTime(r.submitted_at) : h("span.muted", t("standing.not_entered"))),
      lateness(r)
        ? h("td.late", { "data-label": t("reporting.how_late") }, h("span.lateness", { class: r.status }, lateness(r)))
        : h("td.late.none", { "data-label": t("reporting.how_late") }, "–")))));
}

async function enterpriseRecord(id) {
  const node = h("div.screen.wide.reporting-record",
    h("a.back", { href: "#/reporting" }, icon("back"), t("reporting.back")));
  if (!online()) {
    node.append(h("h1", t("reporting.record_title", { enterprise: id })), offlineNote());
    return node;
  }
  let body;
  try {
    body = (await REFI.api(`/api/reporting/enterprises/${encodeURIComponent(id)}?months=12`)).body;
  } catch (err) {
    if (err instanceof REFI.SignedOutError) throw err;
    node.append(h("h1", t("reporting.record_title", { enterprise: id })), h("p.error", icon("warning"), errorText(err)));
    return node;
  }
  node.append(
    h("h1", t("reporting.record_title", { enterprise: body.enterprise_name || body.enterprise_id })),
    h("p.lead", [body.enterprise_id, body.province && term("province", body.province)].filter(Boolean).join(" · ")),
    countChips(body.counts),
    h("p.muted.small", t("reporting.china_time")),
    recordList(body.periods),
    h("p.row.wrap", h("a.button.secondary", { href: "#/log?enterprise_id=" + encodeURIComponent(body.enterprise_id) }, icon("list"), t("risk.findings_link"))));
  return node;
}

/** The latest month whose deadline (the 10th of the next month, end of day in China) has passed. */
export function lastClosedPeriod(now = new Date()) {
  const day = Number(new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", day: "numeric" }).format(now));
  return shiftPeriod(chinaPeriod(now), day > 10 ? -1 : -2);
}

export default async function reportingView(ctx) {
  if (ctx.route.parts[0]) return enterpriseRecord(ctx.route.parts[0]);
  const params = ctx.route.params;
  // Opened without a month: the latest one whose deadline has passed, where "late" and "missing" mean something.
  const wanted = isPeriod(params.get("period")) ? params.get("period") : lastClosedPeriod();
  const status = STANDINGS.includes(params.get("status")) ? params.get("status") : null;
  const node = h("div.screen.wide.reporting", h("h1", t("reporting.title")), oversightTabs("reporting"));
  if (!online()) {
    node.append(offlineNote());
    return node;
  }
  const q = new URLSearchParams();
  if (wanted) q.set("period", wanted);
  if (status) q.set("status", status);
  let body;
  try {
    body = (await REFI.api("/api/reporting/compliance?" + q)).body;
  } catch (err) {
    if (err instanceof REFI.SignedOutError) throw err;
    node.append(periodForm(wanted || shiftPeriod(chinaPeriod(), -1), status), h("p.error", { role: "alert" }, icon("warning"), errorText(err)));
    return node;
  }
  const results = h("div.results");
  node.append(
    periodForm(body.period, status),
    h("p.deadline-line", icon("pending"), h("span", t(body.deadline_passed ? "reporting.deadline_passed" : "reporting.deadline_ahead",
      { month: month(body.period), date: chinaDateTime(body.deadline) }))),
    statusTiles(body, status),
    results);
  if (!body.items.length) {
    mount(results, h("p.empty", t(status ? "reporting.none_in_status" : "reporting.none"), " ",
      status ? h("a", { href: "#/reporting?period=" + body.period }, t("reporting.show_all")) : null));
  } else {
    mount(results, h("p.muted", t("reporting.count", { n: num(body.total), month: month(body.period) })), complianceTable(body.items));
  }
  return node;
}
