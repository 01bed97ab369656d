// Inspection tasks. Supervisors: every task in their scope with its progress and the counts (open, done, overdue,
// per province), and a form that sends inspectors out from a risk row or a finding. Inspectors: "My tasks"
// (views/mytasks.js), which works offline.
import { field, h, icon, mount } from "../dom.js";
import { t } from "../i18n.js";
import { errorText, go, render } from "../main.js";
import { REFI, isReviewer, state } from "../state.js";
import { sendForm, statsBlock, taskCard } from "../tasks-ui.js";
import { oversightTabs } from "./reporting.js";
import { offlineNote, online } from "./standing.js";

const ORIGINS = new Set(["risk", "finding"]);
const STATES = ["open", "done", "cancelled"];

function filterForm(params) {
  const status = h("select", { name: "status" }, h("option", { value: "" }, t("recall.any")),
    STATES.map((s) => h("option", { value: s, selected: params.get("status") === s }, t("tasks.stat_" + s))));
  const overdue = h("input", { type: "checkbox", name: "overdue", checked: params.get("overdue") === "true" });
  return h("form.row.wrap.task-filter", {
    onsubmit: (e) => {
      e.preventDefault();
      const q = new URLSearchParams();
      if (status.value) q.set("status", status.value);
      if (overdue.checked) q.set("overdue", "true");
      go("#/tasks" + (q.toString() ? "?" + q : ""));
    },
  }, field(t("recall.status"), status), h("label.check-inline", overdue, h("span", t("tasks.only_overdue"))),
  h("button.secondary", { type: "submit" }, t("recall.apply")));
}

async function supervisorView(ctx) {
  const params = ctx.route.params;
  const node = h("div.screen.wide.tasks-screen", h("h1", t("tasks.title")), oversightTabs("tasks"));
  if (!online()) {
    node.append(offlineNote());
    return node;
  }
  const origin = params.get("origin");
  if (ORIGINS.has(origin) && params.get("ref")) {
    node.append(h("section.card.send-card", h("h2", t("tasks.send_for_" + origin, { ref: params.get("ref") })),
      sendForm({ type: origin, ref: params.get("ref") }, { provinces: params.get("pool") ? [params.get("pool")] : [], onMade: () => go("#/tasks") })));
  }
  const query = new URLSearchParams({ page_size: "50" });
  for (const k of ["status", "overdue", "province"]) if (params.get(k)) query.set(k, params.get(k));
  const results = h("div.results");
  node.append(results);
  try {
    const [stats, list] = await Promise.all([REFI.api("/api/tasks/stats?" + query), REFI.api("/api/tasks?" + query)]);
    mount(results, statsBlock(stats.body), filterForm(params),
      list.body.length ? h("ol.task-list", list.body.map((task) => taskCard(task, () => ctx.token() && render()))) : h("p.empty", t("tasks.none")));
  } catch (err) {
    if (err instanceof REFI.SignedOutError) throw err;
    mount(results, h("p.error", { role: "alert" }, icon("warning"), errorText(err)));
  }
  return node;
}

export default async function tasksView(ctx) {
  if (isReviewer(state.session.role)) return supervisorView(ctx);
  return (await import("./mytasks.js")).default(ctx);
}
