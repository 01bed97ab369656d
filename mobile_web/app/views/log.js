// The inspection log (supervisors: every finding in their provinces, with filters and exports) and the
// enterprise's list of findings against it, with status and deadlines. Filters live in the URL.
import { h, icon, mount } from "../dom.js";
import { date, num, t, term, tn } from "../i18n.js";
import { errorText, go } from "../main.js";
import { FIELD_TYPES, REASONS, STATUSES, deadlineText, discrepancyName, exportButtons, severityChip, statusChip } from "../findings-ui.js";
import { REFI, isReviewer, state } from "../state.js";
import { SITE_TYPES } from "./scan.js";

const PAGE_SIZE = 20;
const FILTERS = ["status", "severity", "reason", "site_type", "enterprise_id", "overdue", "observed_from", "observed_to", "sort"];
// What waits on this role: a supervisor reviews what inspectors submitted and closes what enterprises answered;
// an enterprise answers what was sent to it.
const ACTION_STATUSES = { reviewer: ["submitted", "responded"], enterprise: ["awaiting_response"] };

/** "action" (what needs this user, the default) or "all"; a status or overdue filter means the whole log. */
function viewOf(params) {
  const v = params.get("view");
  if (v === "all" || v === "action") return v;
  return params.get("status") || params.get("overdue") ? "all" : "action";
}

function viewTabs(params, route, view) {
  const link = (v) => {
    const q = new URLSearchParams(params);
    q.delete("page");
    q.set("view", v);
    if (v === "action") q.delete("status");
    return h("a", { href: `#/${route}?${q}`, class: view === v ? "active" : null, "aria-current": view === v ? "page" : null },
      icon(v === "action" ? "warning" : "list"), h("span", t("log.view_" + v)));
  };
  return h("nav.segmented.tabs-local.log-views", { "aria-label": t("log.views") }, link("action"), link("all"));
}

function select(name, value, options, anyLabel) {
  return h("select", { name, id: "flt-" + name },
    h("option", { value: "" }, anyLabel),
    options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
}

function filterForm(params, reviewer, route) {
  const get = (k) => params.get(k) || "";
  const controls = reviewer ? [
    ["status", select("status", get("status"), STATUSES.map((s) => [s, t("status." + s)]), t("filter.any"))],
    ["severity", select("severity", get("severity"), ["high", "medium", "low"].map((s) => [s, t("severity_level." + s)]), t("filter.any"))],
    ["reason", select("reason", get("reason"), REASONS.concat(FIELD_TYPES).map((r) => [r, discrepancyName(r)]), t("filter.any"))],
    ["site_type", select("site_type", get("site_type"), SITE_TYPES.map((s) => [s, term("site", s)]), t("filter.any"))],
    ["enterprise_id", h("input", { name: "enterprise_id", id: "flt-enterprise_id", value: get("enterprise_id"), autocapitalize: "characters", autocomplete: "off", placeholder: "ENT-…" })],
    ["observed_from", h("input", { type: "date", name: "observed_from", id: "flt-observed_from", value: get("observed_from") })],
    ["observed_to", h("input", { type: "date", name: "observed_to", id: "flt-observed_to", value: get("observed_to") })],
  ] : [
    ["status", select("status", get("status"), STATUSES.filter((s) => ["awaiting_response", "responded", "resolved"].includes(s)).map((s) => [s, t("status." + s)]), t("filter.any"))],
  ];
  const overdue = h("label.check-inline", h("input", { type: "checkbox", name: "overdue", value: "true", checked: get("overdue") === "true" }), h("span", t("filter.overdue")));
  const form = h("form.filters", {
    onsubmit: (e) => {
      e.preventDefault();
      const next = new URLSearchParams();
      if (params.get("view")) next.set("view", params.get("view"));
      for (const el of form.elements) {
        if (!el.name || !FILTERS.includes(el.name)) continue;
        if (el.type === "checkbox" ? el.checked : el.value) next.set(el.name, el.type === "checkbox" ? "true" : el.value.trim());
      }
      go(`#/${route}?${next.toString()}`);
    },
  },
  h("div.filter-grid", controls.map(([name, control]) => h("div.field", h("label", { for: control.id }, t("filter." + name)), control)), h("div.field.end", overdue)),
  h("div.row", h("button.primary", { type: "submit" }, t("filter.apply")), h("a.button.secondary", { href: `#/${route}` }, t("filter.clear"))));
  return form;
}

function apiQuery(params, actionStatuses) {
  const q = new URLSearchParams();
  if (actionStatuses && !params.get("status")) for (const st of actionStatuses) q.append("status", st);
  for (const k of FILTERS) {
    const v = params.get(k);
    if (!v) continue;
    if (k === "observed_from") q.set(k, v + "T00:00:00Z");
    else if (k === "observed_to") {
      // The date picked is meant inclusively; the API's bound is exclusive.
      const next = new Date(v + "T00:00:00Z");
      next.setUTCDate(next.getUTCDate() + 1);
      q.set(k, next.toISOString().replace(".000Z", "Z"));
    }
    else q.set(k, v);
  }
  // What has waited longest comes first when it is work to do.
  if (!q.get("sort")) q.set("sort", actionStatuses ? "observed_at" : "-observed_at");
  return q;
}

function table(items, reviewer) {
  const heads = reviewer
    ? ["log.observed", "log.enterprise", "log.discrepancies", "log.severity", "log.status", "log.deadline", "log.inspector"]
    : ["log.observed", "log.discrepancies", "log.status", "log.deadline", "log.site"];
  return h("table.log-table",
    h("thead", h("tr", heads.map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", items.map((f) => {
      const cells = reviewer ? [
        ["log.observed", h("a", { href: "#/case/" + encodeURIComponent(f.id) }, date(f.observed_at))],
        ["log.enterprise", h("span", f.enterprise_name || f.enterprise_id, f.province ? h("span.muted", " · " + term("province", f.province)) : null)],
        ["log.discrepancies", (f.discrepancies || []).map(discrepancyName).join(", ")],
        ["log.severity", severityChip(f.severity)],
        ["log.status", statusChip(f.status)],
        ["log.deadline", deadlineText(f) || "–"],
        ["log.inspector", f.inspector || "–"],
      ] : [
        ["log.observed", h("a", { href: "#/case/" + encodeURIComponent(f.id) }, date(f.observed_at))],
        ["log.discrepancies", (f.discrepancies || []).map(discrepancyName).join(", ")],
        ["log.status", statusChip(f.status)],
        ["log.deadline", deadlineText(f) || "–"],
        ["log.site", [term("site", f.site && f.site.type), f.site && f.site.name].filter(Boolean).join(" · ")],
      ];
      return h("tr", { class: f.overdue ? "overdue" : null }, cells.map(([k, v]) => h("td", { "data-label": t(k), dataset: { col: k.split(".")[1] } }, v)));
    })));
}

function pager(page, pagination, route, params) {
  if (!pagination || !pagination.total_pages || pagination.total_pages <= 1) return null;
  const link = (p, label) => {
    const q = new URLSearchParams(params);
    q.set("page", p);
    return h("a.button.secondary.small", { href: `#/${route}?${q}` }, label);
  };
  return h("nav.pager", { "aria-label": t("log.pages") },
    page > 1 ? link(page - 1, t("log.previous")) : null,
    h("span", t("log.page_of", { page, pages: pagination.total_pages, total: num(pagination.total) })),
    page < pagination.total_pages ? link(page + 1, t("log.next")) : null);
}

export default async function logView(ctx) {
  const role = state.session.role;
  const reviewer = isReviewer(role);
  const route = ctx.route.name;
  const params = ctx.route.params;
  const page = Math.max(1, Number(params.get("page")) || 1);
  const view = viewOf(params);
  const query = apiQuery(params, view === "action" ? ACTION_STATUSES[reviewer ? "reviewer" : "enterprise"] : null);
  const listQuery = new URLSearchParams(query);
  listQuery.set("page", page);
  listQuery.set("page_size", PAGE_SIZE);

  const results = h("div.results", { "aria-live": "polite" }, h("p", t("common.loading")));
  const node = h("div.screen.wide.log",
    h("div.row.between.wrap", h("h1", t(reviewer ? "log.title" : "cases.title")),
      reviewer ? exportButtons(query) : null),
    !reviewer ? h("p.lead", t("cases.lead", { enterprise: state.session.enterprise_id || "" })) : null,
    viewTabs(params, route, view),
    h("details.filter-box", { open: reviewer && window.matchMedia("(min-width: 900px)").matches ? true : null },
      h("summary", t("filter.title")), filterForm(params, reviewer, route)),
    results);

  try {
    const { body, res } = await REFI.api("/api/inspections?" + listQuery.toString());
    let pagination = null;
    try { pagination = JSON.parse(res.headers.get("X-Pagination") || "null"); } catch (err) { /* no pages */ }
    if (!body.length) {
      mount(results, view === "action"
        ? h("p.empty", t(reviewer ? "log.nothing_to_do" : "cases.nothing_to_do"))
        : h("p.empty", t(reviewer ? "log.empty" : "cases.empty")));
    } else {
      mount(results,
        h("p.muted", tn("log.count", pagination ? pagination.total : body.length)),
        table(body, reviewer), pager(page, pagination, route, params));
    }
  } catch (err) {
    if (err instanceof REFI.SignedOutError) throw err;
    mount(results, h("p.error", icon("warning"), errorText(err)));
  }
  return node;
}
