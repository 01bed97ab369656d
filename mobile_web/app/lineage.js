// A batch's lineage as a supervisor reads it: a list of generations (collapsible, every phone width) and, on a wide
// screen, the same nodes drawn as a graph, from the mine on the left to the holders on the right.
import { display } from "./batchcode.js";
import { h, icon } from "./dom.js";
import { date, num, reasonTitle, t, term, tn } from "./i18n.js";

/** "2 steps back", "the batch found", "1 step on": a generation's name (negative: upstream). */
export function generationName(g) {
  if (g === 0) return t("trace.gen_found");
  return g < 0 ? tn("trace.gen_back", -g) : tn("trace.gen_on", g);
}

function approvalChips(node) {
  if (node.generation > 0) return null; // downstream rows carry the recall's facts instead
  const chip = (ok, yes, no) => (ok === null || ok === undefined ? null
    : h("span.chip-status." + (ok ? "sent" : "rejected"), icon(ok ? "pass" : "fail"), t(ok ? yes : no)));
  return h("span.item-line.lineage-checks",
    chip(node.approved_on_production_date, "trace.approved", "trace.not_approved"),
    chip(node.within_quota, "trace.within_quota", "trace.over_quota"),
    node.imported ? h("span.chip-status.workflow", t("trace.imported")) : null);
}

function nodeCard(node, traced) {
  const down = node.generation > 0;
  const share = down ? t("trace.taint", { pct: num(node.taint_pct, 1) }) : t("trace.share", { pct: num(node.share_pct, 1) });
  return h("li.lineage-node", { class: node.failing ? "failing" : null, dataset: { code: node.code } },
    h("div.item-line",
      node.code === traced ? h("strong", h("code.code", display(node.code)))
        : h("a.lineage-code", { href: "#/trace/batch/" + encodeURIComponent(node.code) }, h("code.code", display(node.code))),
      node.failing ? h("span.badge.fail", icon("fail"), t("trace.failing")) : null,
      h("span.status-chip.workflow", term("batch_status", node.status))),
    h("p.small.lineage-what", [term("stage", node.stage), term("product", node.product_type)].join(" · ")),
    h("p.small", down
      ? [node.holder_name || node.holder_id, node.province].filter(Boolean).join(" · ")
      : [node.producer_name || node.producer_id, node.province].filter(Boolean).join(" · ")),
    h("p.small.muted", t("trace.node_facts", { date: date(node.produced_on), mass: num(node.mass_kg), left: num(node.remaining_kg) })),
    h("p.small.lineage-share", share),
    approvalChips(node),
    (node.reason_codes || []).length ? h("p.small.lineage-reasons", icon("warning"), node.reason_codes.map(reasonTitle).join(", ")) : null);
}

/** The generations as a list of <details>, deepest ancestors first; open: this batch, the ones with failing nodes,
 *  and the short downstream ones (where the holders are). */
export function generationList(nodes, traced) {
  const by = new Map();
  for (const n of nodes) {
    const g = n.generation ?? 99;
    if (!by.has(g)) by.set(g, []);
    by.get(g).push(n);
  }
  const order = [...by.keys()].sort((a, b) => a - b);
  return h("div.lineage-list", order.map((g) => {
    const list = by.get(g);
    const failing = list.filter((n) => n.failing).length;
    return h("details.lineage-gen", { open: g === 0 || failing > 0 || order.length <= 3 || (g > 0 && list.length <= 6), dataset: { generation: String(g) } },
      h("summary", h("span", generationName(g)), h("span.small.muted", " · " + tn("trace.batches", list.length)),
        failing ? h("span.small.lineage-fail-count", " · " + tn("trace.failing_count", failing)) : null),
      h("ol.lineage-nodes", list.map((n) => nodeCard(n, traced))));
  }));
}

const BOX_W = 150;
const BOX_H = 54;
const GAP_X = 56;
const GAP_Y = 14;
const HEAD = 30;

/** The lineage drawn as columns of boxes (one column per generation) joined by edges labelled with the mass. */
export function lineageGraph(nodes, edges, traced) {
  const cols = [...new Set(nodes.map((n) => n.generation ?? 99))].sort((a, b) => a - b);
  const pos = new Map();
  let rows = 1;
  cols.forEach((g, i) => {
    const list = nodes.filter((n) => (n.generation ?? 99) === g);
    rows = Math.max(rows, list.length);
    list.forEach((n, j) => pos.set(n.code, { x: 8 + i * (BOX_W + GAP_X), y: HEAD + j * (BOX_H + GAP_Y), n }));
  });
  const width = 16 + cols.length * BOX_W + (cols.length - 1) * GAP_X;
  const height = HEAD + 8 + rows * BOX_H + (rows - 1) * GAP_Y;
  const lines = edges.filter((e) => pos.has(e.from) && pos.has(e.to)).map((e) => {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    const x1 = a.x + BOX_W, y1 = a.y + BOX_H / 2, x2 = b.x, y2 = b.y + BOX_H / 2;
    return h("g.lineage-edge", h("path", { d: `M${x1},${y1} C${x1 + GAP_X / 2},${y1} ${x2 - GAP_X / 2},${y2} ${x2},${y2}` }),
      e.mass_kg ? h("text", { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 4, "text-anchor": "middle" }, num(e.mass_kg)) : null);
  });
  const boxes = [...pos.values()].map(({ x, y, n }) => h("g.lineage-box", { class: [n.failing ? "failing" : null, n.code === traced ? "traced" : null].filter(Boolean).join(" ") || null },
    h("title", `${display(n.code)} · ${n.producer_name || n.holder_name || ""}`),
    h("rect", { x, y, width: BOX_W, height: BOX_H, rx: 8 }),
    h("text", { x: x + 8, y: y + 20, class: "lineage-box-code" }, display(n.code)),
    h("text", { x: x + 8, y: y + 40 }, `${term("stage", n.stage)} · ${num(n.mass_kg)} kg`)));
  const heads = cols.map((g, i) => h("text", { x: 8 + i * (BOX_W + GAP_X), y: 16, class: "lineage-head" }, generationName(g)));
  // The list above says all of this to a screen reader; the drawing is for the eye.
  return h("figure.lineage-graph", { "aria-hidden": "true" },
    h("svg", { viewBox: `0 0 ${width} ${height}`, width, height, class: "lineage-svg", focusable: "false" }, heads, lines, boxes));
}
