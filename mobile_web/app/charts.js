// Two hand-rolled SVG charts, each with a visually hidden table for screen readers.
import { h } from "./dom.js";
import { num } from "./i18n.js";

function dataTable(caption, rows, labelHead, valueHead) {
  // Hidden by a wrapper: a table ignores the 1-px box of .visually-hidden and would widen the page.
  return h("div.visually-hidden", h("table", h("caption", caption),
    h("thead", h("tr", h("th", { scope: "col" }, labelHead), h("th", { scope: "col" }, valueHead))),
    h("tbody", rows.map((r) => h("tr", h("th", { scope: "row" }, r.label), h("td", num(r.value)))))));
}

/** The drawing width: the screen's, so text in the SVG stays at its CSS size on a phone. */
function fitWidth() {
  return Math.round(Math.max(300, Math.min(640, (document.documentElement.clientWidth || 640) - 72)));
}

let measure = null;

/** The label cut (with "…") to what fits in px at the chart's 13 px type, measured in the page's own font. */
function fitLabel(label, px) {
  if (!measure) {
    measure = document.createElement("canvas").getContext("2d");
    measure.font = `600 13px ${getComputedStyle(document.body).fontFamily}`;
  }
  if (measure.measureText(label).width <= px) return label;
  let cut = label;
  while (cut.length > 1 && measure.measureText(cut + "…").width > px) cut = cut.slice(0, -1);
  return cut.trimEnd() + "…";
}

/** Horizontal bars, one row per label, longest first. */
export function barChart(caption, rows, { labelHead = "", valueHead = "" } = {}) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const rowH = 30;
  const width = fitWidth();
  const labelW = Math.round(width * 0.42);
  const barW = width - labelW - 40;
  const svg = h("svg", { viewBox: `0 0 ${width} ${rows.length * rowH + 4}`, class: "chart bars", role: "img", "aria-hidden": "true", focusable: "false" },
    rows.map((r, i) => {
      const y = i * rowH + 2;
      const w = Math.max(2, (r.value / max) * barW);
      return h("g", h("title", `${r.label}: ${num(r.value)}`),
        h("text", { x: labelW - 8, y: y + rowH / 2 + 5, "text-anchor": "end", class: "chart-label" }, fitLabel(r.label, labelW - 12)),
        h("rect", { x: labelW, y: y + 4, width: w, height: rowH - 8, rx: 3, class: "chart-bar " + (r.kind || "") }),
        h("text", { x: labelW + w + 6, y: y + rowH / 2 + 5, class: "chart-value" }, num(r.value)));
    }));
  return h("figure.chart-wrap", h("figcaption", caption), svg, dataTable(caption, rows, labelHead, valueHead));
}

/** Vertical columns in order (e.g. ISO weeks), with every few labels shown. */
export function columnChart(caption, rows, { labelHead = "", valueHead = "" } = {}) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const width = fitWidth();
  const height = 240;
  const left = 36;
  const bottom = 28;
  const plotH = height - bottom - 12;
  const slot = rows.length ? (width - left - 8) / rows.length : 1;
  const every = Math.max(1, Math.ceil(rows.length / Math.floor(width / 56)));
  const ticks = [0, Math.ceil(max / 2), max];
  const svg = h("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart columns", role: "img", "aria-hidden": "true", focusable: "false" },
    ticks.map((v) => {
      const y = 12 + plotH - (v / max) * plotH;
      return h("g", h("line", { x1: left, x2: width - 4, y1: y, y2: y, class: "chart-gridline" }),
        h("text", { x: left - 6, y: y + 4, "text-anchor": "end", class: "chart-axis" }, num(v)));
    }),
    rows.map((r, i) => {
      const bh = (r.value / max) * plotH;
      const x = left + i * slot + slot * 0.15;
      return h("g", h("title", `${r.label}: ${num(r.value)}`),
        h("rect", { x, y: 12 + plotH - bh, width: slot * 0.7, height: Math.max(bh, r.value ? 1 : 0), rx: 2, class: "chart-bar" }),
        i % every === 0 ? h("text", { x: x + slot * 0.35, y: height - 8, "text-anchor": "middle", class: "chart-axis" }, r.short || r.label) : null);
    }));
  return h("figure.chart-wrap", h("figcaption", caption), svg, dataTable(caption, rows, labelHead, valueHead));
}
