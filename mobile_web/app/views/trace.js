// Supervisors: from a batch, a scan or a finding back to the source(s) where the problem entered, with their reasons
// and evidence, and the whole lineage: up to the mine and on to every batch made from it and who holds it now.
import { checkInput, display } from "../batchcode.js";
import { field, h, icon, mount } from "../dom.js";
import { num, reasonMessage, reasonTitle, t, term, tn } from "../i18n.js";
import { errorText, go } from "../main.js";
import { generationList, lineageGraph } from "../lineage.js";
import { REFI } from "../state.js";
import { oversightTabs } from "./reporting.js";
import { offlineNote, online } from "./standing.js";

const KINDS = { batch: "batches", scan: "scans", finding: "findings" };

/** The form that opens a batch's trace or recall by its code. */
export function codeForm(target, value = "") {
  const input = h("input.code-input", { name: "code", value, autocomplete: "off", autocapitalize: "characters", spellcheck: "false", required: true, maxlength: 64 });
  const problem = h("p.form-error", { role: "alert" });
  return h("form.trace-form.card", {
    novalidate: true,
    onsubmit: (e) => {
      e.preventDefault();
      const checked = checkInput(input.value);
      const code = checked.state === "valid" ? checked.code : input.value.trim();
      if (!code || ["typo", "bad_chars", "incomplete", "too_long"].includes(checked.state)) {
        input.setAttribute("aria-invalid", "true");
        problem.textContent = t("trace.bad_code");
        input.focus();
        return;
      }
      go(target === "recall" ? "#/recall/" + encodeURIComponent(code) : "#/trace/batch/" + encodeURIComponent(code));
    },
  }, field(t("trace.code_label"), input), problem, h("button.primary", { type: "submit" }, icon(target === "recall" ? "flag" : "history"), t(target === "recall" ? "recall.open" : "trace.open")));
}

function sourceCard(source) {
  return h("li.card.trace-source", { dataset: { code: source.code } },
    h("div.item-line", h("span.badge.fail", icon("fail"), t("trace.source")), h("code.code", display(source.code))),
    h("p", h("strong", source.producer_name || source.producer_id), source.province ? " · " + term("province", source.province) : "",
      " · " + term("stage", source.stage)),
    h("p.small", t("trace.source_share", { pct: num(source.share_pct, 1) })),
    h("ul.reasons", source.reasons.map((r) => h("li.reason", h("strong", reasonTitle(r.code)), h("p.small", reasonMessage(r))))),
    h("div.row.wrap",
      h("a.button.primary.small", { href: "#/recall/" + encodeURIComponent(source.code) }, icon("flag"), t("trace.recall_from")),
      source.generation ? h("a.button.secondary.small", { href: "#/trace/batch/" + encodeURIComponent(source.code) }, t("trace.trace_this")) : null));
}

/** The recall of the traced batch as downstream nodes and edges (generation 1, 2 ... on), or none when out of reach. */
async function downstream(code) {
  try {
    const { body } = await REFI.api(`/api/recall/${encodeURIComponent(code)}?sort=generation&page_size=100`);
    const nodes = body.items.map((r) => Object.assign({}, r, { failing: false, reason_codes: [] }));
    const edges = body.items.flatMap((r) => r.parent_codes.map((p) => ({ from: p, to: r.code })));
    return { nodes, edges, more: body.summary.batches - body.items.length, hidden: body.hidden };
  } catch (err) {
    if (err instanceof REFI.SignedOutError) throw err;
    return { nodes: [], edges: [], more: 0, hidden: 0 };
  }
}

async function traceBlock(trace) {
  const down = await downstream(trace.code);
  const up = trace.graph.nodes.map((n) => Object.assign({}, n, { generation: -(n.generation ?? 0) }));
  const nodes = up.concat(down.nodes);
  const edges = trace.graph.edges.concat(down.edges);
  const failing = trace.status === "fail";
  return h("section.trace", { dataset: { code: trace.code, status: trace.status } },
    h("div.card.trace-head", { class: failing ? "fail" : "pass" },
      h("p.item-line", h("span.badge." + (failing ? "fail" : "pass"), icon(failing ? "fail" : "pass"), t(failing ? "trace.status_fail" : "trace.status_pass")),
        h("code.code", display(trace.code))),
      h("p", failing ? tn("trace.entered_at", trace.sources.length) : t("trace.clean")),
      failing ? h("p.small", t("trace.tainted", { pct: num(trace.tainted_pct, 1) })) : null,
      h("p.small.muted", t("trace.depth", { n: num(trace.max_depth) }))),
    trace.sources.length ? h("h2", tn("trace.sources", trace.sources.length)) : null,
    trace.sources.length ? h("ol.trace-sources", trace.sources.map(sourceCard)) : null,
    h("h2", t("trace.lineage")),
    h("p.small.muted", t("trace.lineage_lead", { up: tn("trace.batches", up.length - 1), down: tn("trace.batches", down.nodes.length) })),
    down.hidden ? h("p.small", tn("recall.hidden", down.hidden)) : null,
    lineageGraph(nodes, edges, trace.code),
    generationList(nodes, trace.code),
    down.more > 0 ? h("p", h("a.button.secondary", { href: "#/recall/" + encodeURIComponent(trace.code) }, tn("trace.more_down", down.more))) : null);
}

export default async function traceView(ctx) {
  const [kind, ref] = ctx.route.parts;
  const node = h("div.screen.wide.trace-screen", h("h1", t("trace.title")), oversightTabs("trace"));
  if (!KINDS[kind] || !ref) {
    node.append(h("p.lead", t("trace.lead")), codeForm("trace"));
    return node;
  }
  if (!online()) {
    node.append(offlineNote());
    return node;
  }
  let traces;
  try {
    const { body } = await REFI.api(`/api/trace/${KINDS[kind]}/${encodeURIComponent(ref)}`);
    traces = kind === "batch" ? [body] : body.traces;
  } catch (err) {
    if (err instanceof REFI.SignedOutError) throw err;
    node.append(h("p.error", { role: "alert" }, icon("warning"), errorText(err)), codeForm("trace", kind === "batch" ? ref : ""));
    return node;
  }
  const what = kind === "batch" ? display(ref) : kind === "scan" ? t("trace.of_scan") : t("trace.of_finding");
  node.querySelector("h1").textContent = t("trace.title_of", { what });
  if (!traces.length) node.append(h("p.empty", t("trace.none")));
  const blocks = h("div.traces");
  node.append(blocks);
  mount(blocks, await Promise.all(traces.map(traceBlock)));
  node.append(h("details.filter-box", h("summary", t("trace.another")), codeForm("trace")));
  return node;
}
