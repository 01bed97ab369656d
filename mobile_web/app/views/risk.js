// Supervisors: where to inspect next. Enterprises ranked by weighted recent evidence, each with the factor that
// drove its score in a sentence and every factor behind it on demand.
import { h, icon, mount } from "../dom.js";
import { has, num, t, term, tn } from "../i18n.js";
import { errorText } from "../main.js";
import { REFI } from "../state.js";
import { oversightTabs } from "./reporting.js";
import { chinaDateTime, offlineNote, online, shortMonth } from "./standing.js";

const PAGE = 20;
const REPORT_FACTORS = new Set(["missing_reports", "late_reports"]);

const factorLabel = (f) => (has("risk.factor." + f.factor) ? t("risk.factor." + f.factor) : f.label || f.factor);

/** The factor in words, built from its numbers in the reader's language; the server's English for one we do not know. */
export function factorSentence(f, windowDays, serverText, dueMonths = 12) {
  if (!has("risk.count." + f.factor)) return serverText || `${f.label || f.factor}: ${f.points}`;
  const periods = (f.periods || []).map(shortMonth).join(", ");
  return t("risk.sentence", {
    what: tn("risk.count." + f.factor, f.count),
    window: REPORT_FACTORS.has(f.factor) ? t("risk.window_reports", { n: num(dueMonths) }) : t("risk.window_days", { n: num(windowDays) }),
    periods: periods ? t("risk.periods", { periods }) : "",
    points: tn("risk.points", f.points),
  });
}

function factorsTable(row, windowDays, dueMonths) {
  return h("table.factor-table",
    h("caption.visually-hidden", t("risk.factors_of", { enterprise: row.enterprise_name || row.enterprise_id })),
    h("thead", h("tr", ["risk.factor_head", "risk.points_head"].map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", row.factors.map((f) => h("tr", { dataset: { factor: f.factor } },
      h("th", { scope: "row" }, factorLabel(f), h("span.block-line.small.factor-sentence", factorSentence(f, windowDays, null, dueMonths))),
      h("td.points", t("risk.points_calc", { count: num(f.count), weight: num(f.weight), points: num(f.points) }))))));
}

function rankItem(row, windowDays, dueMonths) {
  const top = row.top_factor ? row.factors.find((f) => f.factor === row.top_factor.factor) : null;
  const sentence = top ? factorSentence(top, windowDays, row.top_factor.text, dueMonths) : row.top_factor ? row.top_factor.text : null;
  return h("li.risk-item", { dataset: { enterprise: row.enterprise_id }, class: row.score ? null : "zero" },
    h("div.risk-head",
      h("span.risk-rank", { "aria-label": t("risk.rank", { n: row.rank }) }, num(row.rank)),
      h("div.risk-name",
        h("strong", row.enterprise_name || row.enterprise_id),
        h("span.small.muted", [row.enterprise_id, row.province && term("province", row.province)].filter(Boolean).join(" · "))),
      h("div.risk-score", h("span.risk-score-value", num(row.score)), h("span.small", t("risk.score")))),
    h("p.risk-top", sentence ? [icon("flag"), h("span", sentence)] : h("span.muted", t("risk.nothing"))),
    row.factors.length ? h("details.risk-factors",
      h("summary", tn("risk.why", row.factors.length)),
      factorsTable(row, windowDays, dueMonths),
      h("div.row.wrap.risk-links",
        h("a.button.secondary.small", { href: "#/reporting/" + encodeURIComponent(row.enterprise_id) }, t("risk.record_link")),
        h("a.button.secondary.small", { href: "#/log?enterprise_id=" + encodeURIComponent(row.enterprise_id) }, t("risk.findings_link")),
        h("a.button.secondary.small", { href: "#/tasks?" + new URLSearchParams({ origin: "risk", ref: row.enterprise_id, pool: row.province || "" }) }, t("tasks.send_open")))) : null);
}

function weightsBox(body) {
  return h("details.filter-box.weights",
    h("summary", t("risk.how_counted")),
    h("p", t("risk.how_counted_text", { days: num(body.window_days), since: chinaDateTime(body.since) })),
    h("ul.weights-list", (body.weights || []).map((w) => h("li", h("span", factorLabel(w)), h("strong", tn("risk.points", w.weight))))));
}

export default async function riskView(ctx) {
  const limit = Math.min(500, Math.max(PAGE, Number(ctx.route.params.get("limit")) || PAGE));
  const node = h("div.screen.wide.risk", h("h1", t("risk.title")), oversightTabs("risk"));
  if (!online()) {
    node.append(offlineNote());
    return node;
  }
  const results = h("div.results");
  node.append(results);
  let body;
  try {
    body = (await REFI.api("/api/risk/enterprises?limit=" + limit)).body;
  } catch (err) {
    if (err instanceof REFI.SignedOutError) throw err;
    mount(results, h("p.error", { role: "alert" }, icon("warning"), errorText(err)));
    return node;
  }
  mount(results,
    h("p.lead", t("risk.lead", { days: num(body.window_days) })),
    h("p.muted.small", t("risk.as_of", { when: chinaDateTime(body.as_of) })),
    body.items.length ? h("ol.risk-list", body.items.map((row) => rankItem(row, body.window_days, (body.due_periods || []).length || 12))) : h("p.empty", t("risk.none")),
    body.total > body.items.length
      ? h("p.row", h("a.button.secondary.big", { href: "#/risk?limit=" + Math.min(500, limit + 40) }, t("risk.more", { shown: num(body.items.length), total: num(body.total) })))
      : null,
    weightsBox(body));
  return node;
}
