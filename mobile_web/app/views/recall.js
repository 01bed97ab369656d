// Supervisors: a recall from a source batch. Every batch its material reached with the share of it, who holds each
// now and where (a map), filters and sorting in the URL, the whole list as a spreadsheet, GeoJSON or EPCIS, and the
// inspectors sent to check it with their progress.
import { display } from "../batchcode.js";
import { field, h, icon, mount, saveResponse, toast } from "../dom.js";
import { date, dateTime, num, t, term, tn } from "../i18n.js";
import { errorText, go } from "../main.js";
import { holdersList, holdersMap, holdersOf } from "../holders-map.js";
import { REFI } from "../state.js";
import { originProgress, sendForm } from "../tasks-ui.js";
import { oversightTabs } from "./reporting.js";
import { offlineNote, online } from "./standing.js";
import { codeForm } from "./trace.js";

const STATUSES = ["active", "consumed", "transformed", "exported", "seized", "recalled"];
const SORTS = ["share", "source_share", "generation", "status", "province", "holder", "last_scanned", "code"];
const FORMATS = ["csv", "xlsx", "geojson", "epcis"];
const PAGE = 100;

function filtersOf(params) {
  const q = {};
  for (const k of ["status", "province", "holder_id", "min_taint_pct", "sort"]) if (params.get(k)) q[k] = params.get(k);
  return q;
}

function filterBox(code, query, provinces, holders) {
  const select = (name, options, label) => h("select", { name },
    h("option", { value: "" }, t("recall.any")),
    options.map(([v, text]) => h("option", { value: v, selected: query[name] === v }, text)));
  const status = select("status", STATUSES.map((s) => [s, term("batch_status", s)]));
  const province = select("province", [...new Set(provinces.concat(query.province ? [query.province] : []))].map((p) => [p, term("province", p)]));
  const holder = select("holder_id", holders.map((x) => [x.id, x.name]));
  const taint = h("input", { type: "number", name: "min_taint_pct", min: 0, max: 100, step: "any", inputmode: "decimal", value: query.min_taint_pct || "" });
  const sort = h("select", { name: "sort" }, SORTS.map((s) => h("option", { value: s, selected: (query.sort || "share") === s }, t("recall.sort_" + s))));
  const active = ["status", "province", "holder_id", "min_taint_pct"].filter((k) => query[k]).length;
  return h("details.filter-box.recall-filters", { open: active > 0 },
    h("summary", active ? tn("recall.filters_on", active) : t("recall.filters")),
    h("form", {
      onsubmit: (e) => {
        e.preventDefault();
        const q = new URLSearchParams();
        for (const el of [status, province, holder, taint, sort]) if (el.value) q.set(el.name, el.value);
        go("#/recall/" + encodeURIComponent(code) + (q.toString() ? "?" + q : ""));
      },
    },
    h("div.filter-grid", field(t("recall.status"), status), field(t("recall.province"), province), field(t("recall.holder"), holder),
      field(t("recall.min_taint"), taint), field(t("recall.sort"), sort)),
    h("div.row.wrap", h("button.primary", { type: "submit" }, t("recall.apply")),
      active ? h("a.button.secondary", { href: "#/recall/" + encodeURIComponent(code) }, t("recall.clear")) : null)));
}

async function exportRecall(code, format, query) {
  const params = new URLSearchParams(Object.assign({}, query, { format }));
  try {
    const res = await REFI.authFetch(`/api/recall/${encodeURIComponent(code)}/export?` + params);
    if (!res.ok) throw new REFI.ApiError(res.status, await REFI.readBody(res));
    toast(t("export.done", { name: await saveResponse(res, `recall-${code}.${format}`) }), "ok");
  } catch (err) {
    toast(errorText(err), "error");
  }
}

function exportRow(code, query) {
  return h("div.export-row", { role: "group", "aria-label": t("recall.export_title") },
    h("span.muted", t("recall.export_title")),
    FORMATS.map((f) => h("button.secondary.small", { type: "button", dataset: { format: f }, onclick: () => exportRecall(code, f, query) }, icon("download"), f === "epcis" ? "EPCIS" : f.toUpperCase())));
}

function lastScan(scan) {
  if (!scan) return h("span.muted", t("recall.never_scanned"));
  const where = [scan.site && scan.site.name, scan.province && term("province", scan.province)].filter(Boolean).join(", ");
  return h("span", t("recall.last_scan", { when: dateTime(scan.received_at), where: where || "–" }),
    scan.verdict ? [" ", h("span.badge." + scan.verdict, t("verdict." + scan.verdict))] : null);
}

function rowCard(r) {
  return h("li.card.recall-row", { dataset: { code: r.code, status: r.status } },
    h("div.item-line",
      h("a", { href: "#/trace/batch/" + encodeURIComponent(r.code) }, h("code.code", display(r.code))),
      h("span.status-chip.workflow", term("batch_status", r.status)),
      r.in_transit ? h("span.chip-status.pending", t("recall.in_transit")) : null),
    h("p.recall-taint", h("strong", t("recall.taint", { pct: num(r.taint_pct, 1) })),
      h("span.small", " · " + t("recall.source_kg", { kg: num(r.source_kg, 1), pct: num(r.source_share_pct, 1) }))),
    h("p.small", [term("stage", r.stage), term("product", r.product_type), tn("recall.step", r.generation)].join(" · ")),
    h("p.small", h("strong", r.holder_name || r.holder_id), [r.city, r.province].filter(Boolean).length ? " · " + [r.city, r.province && term("province", r.province)].filter(Boolean).join(", ") : ""),
    h("p.small", t("recall.masses", { left: num(r.remaining_kg), mass: num(r.mass_kg), tainted: num(r.tainted_remaining_kg, 1) })),
    h("p.small.muted", t("recall.produced", { date: date(r.produced_on) }), " · ", lastScan(r.last_scan)));
}

function summaryTiles(summary) {
  const tile = (value, key, alert) => h("div.tile", { class: alert ? "alert" : null, dataset: { stat: key } },
    h("span.tile-value", value), h("span.tile-label", t("recall.stat_" + key)));
  return h("div.tiles.recall-tiles", tile(num(summary.batches), "batches"), tile(num(summary.active), "active", summary.active > 0),
    tile(num(summary.holders), "holders"), tile(num(summary.provinces.length), "provinces"),
    tile(num(summary.tainted_remaining_kg, 1), "tainted_kg", summary.tainted_remaining_kg > 0));
}

export default async function recallView(ctx) {
  const code = ctx.route.parts[0];
  const node = h("div.screen.wide.recall-screen", h("h1", t("recall.title")), oversightTabs("trace"));
  if (!code) {
    node.append(h("p.lead", t("recall.lead")), codeForm("recall"));
    return node;
  }
  if (!online()) {
    node.append(offlineNote());
    return node;
  }
  const query = filtersOf(ctx.route.params);
  const page = Math.max(1, Number(ctx.route.params.get("page")) || 1);
  const params = new URLSearchParams(Object.assign({}, query, { page_size: PAGE, page }));
  let body, all;
  try {
    // The whole reach (unfiltered) gives the filters their choices and the map its holders.
    [body, all] = await Promise.all([REFI.api(`/api/recall/${encodeURIComponent(code)}?` + params).then((r) => r.body),
      Object.keys(query).length ? REFI.api(`/api/recall/${encodeURIComponent(code)}?page_size=${PAGE}`).then((r) => r.body) : null]);
  } catch (err) {
    if (err instanceof REFI.SignedOutError) throw err;
    node.append(h("p.error", { role: "alert" }, icon("warning"), errorText(err)), codeForm("recall", code));
    return node;
  }
  all = all || body;
  const src = body.source;
  node.querySelector("h1").textContent = t("recall.title_of", { code: display(src.code) });
  const holders = holdersOf(body.items);
  const progress = h("div.recall-progress", h("p.muted", t("common.loading")));
  // Element.append would write a null (a block not shown) as the text "null".
  node.append(...[
    h("section.card.recall-source", { dataset: { code: src.code } },
      h("p", h("strong", src.producer_name || src.producer_id), src.province ? " · " + term("province", src.province) : ""),
      h("p.small", [term("stage", src.stage), term("product", src.product_type), t("recall.source_mass", { kg: num(src.mass_kg), date: date(src.produced_on) })].join(" · ")),
      h("p.small", h("a", { href: "#/trace/batch/" + encodeURIComponent(src.code) }, t("recall.trace_link")))),
    summaryTiles(body.summary),
    body.hidden ? h("p.small.recall-hidden", icon("warning"), tn("recall.hidden", body.hidden)) : null,
    filterBox(code, query, all.summary.provinces, holdersOf(all.items)),
    exportRow(code, query),
    h("h2", t("recall.map_title")),
    h("div.recall-map", holdersMap(holders), holdersList(holders)),
    h("h2", tn("recall.reached", body.summary.batches)),
    body.items.length ? h("ol.recall-rows", body.items.map(rowCard)) : h("p.empty", t("recall.none")),
    body.summary.batches > page * PAGE ? h("p", h("a.button.secondary", { href: `#/recall/${encodeURIComponent(code)}?` + new URLSearchParams(Object.assign({}, query, { page: page + 1 })) }, t("recall.next_page"))) : null,
    h("h2", t("recall.send_title")),
    h("p.small", body.summary.active ? t("recall.send_lead") : t("recall.send_none")),
    body.summary.active ? h("details.filter-box.send-box", h("summary", t("tasks.send_open")),
      sendForm({ type: "recall", ref: src.code }, { provinces: all.summary.provinces, minTaint: query.min_taint_pct || null, onMade: () => originProgress(progress, src.code) })) : null,
    h("h2", t("recall.progress_title")),
    progress].filter(Boolean));
  originProgress(progress, src.code);
  return node;
}
