// Pieces the task screens share: sending inspectors out (from a recall, a risk row, a finding), a task's progress,
// and the counts of a set of tasks (open, done, overdue, per province).
import { display } from "./batchcode.js";
import { field, firstMissing, h, icon, labelOf, mount, toast } from "./dom.js";
import { date, num, t, term, tn } from "./i18n.js";
import { errorText } from "./main.js";
import { REFI, state } from "./state.js";

const DEFAULT_DUE_DAYS = 7;

function isoDay(d) {
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
}

/** The form that turns an origin ({type, ref}) into tasks; onMade(tasks) runs after the server made them. */
export function sendForm(origin, { provinces = [], onMade, minTaint = null } = {}) {
  const today = new Date();
  const due = h("input", { type: "date", name: "due", required: true, min: isoDay(new Date(today.getTime() + 86400000)),
    value: isoDay(new Date(today.getTime() + DEFAULT_DUE_DAYS * 86400000)) });
  const mine = state.session && state.session.provinces;
  const pools = (mine && mine.length ? provinces.filter((p) => mine.includes(p)).concat(mine.filter((p) => !provinces.includes(p))) : provinces);
  const pool = h("select", { name: "pool" }, h("option", { value: "" }, t("tasks.no_pool")),
    [...new Set(pools)].map((p) => h("option", { value: p }, term("province", p))));
  const who = h("input", { name: "assignees", autocomplete: "off", spellcheck: "false", maxlength: 400 });
  const taint = origin.type === "recall" ? h("input", { type: "number", name: "min_taint", min: 0, max: 100, step: "any", inputmode: "decimal", value: minTaint ?? "" }) : null;
  const weekly = h("input", { type: "checkbox", name: "weekly" });
  const title = h("input", { name: "title", maxlength: 200, autocomplete: "off" });
  const problem = h("p.form-error", { role: "alert" });
  const send = h("button.primary", { type: "submit" }, icon("flag"), t("tasks.send"));
  const form = h("form.send-form", {
    novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      problem.textContent = "";
      const missing = firstMissing(form);
      if (missing) {
        problem.textContent = t("phone.fill_in", { field: labelOf(missing) });
        missing.focus();
        return;
      }
      const assignees = who.value.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
      if (!assignees.length && !pool.value) {
        problem.textContent = t("tasks.need_who");
        who.focus();
        return;
      }
      const body = {
        origin: Object.assign({}, origin, taint && taint.value !== "" ? { min_taint_pct: Number(taint.value) } : {}),
        due_at: new Date(due.value + "T18:00:00").toISOString(), assignees, pool_province: pool.value || null,
        repeat_every_days: weekly.checked ? 7 : null,
      };
      if (title.value.trim()) body.title = title.value.trim();
      send.disabled = true;
      try {
        const { body: made } = await REFI.api("/api/tasks", { method: "POST", json: body });
        toast(tn("tasks.made", made.tasks.length), "ok");
        onMade && onMade(made.tasks);
      } catch (err) {
        if (err instanceof REFI.SignedOutError) throw err;
        problem.textContent = errorText(err);
      } finally {
        send.disabled = false;
      }
    },
  },
  h("div.filter-grid",
    field(t("tasks.due"), due),
    field(t("tasks.assignees"), who, t("tasks.assignees_hint")),
    field(t("tasks.pool"), pool, t("tasks.pool_hint")),
    taint ? field(t("tasks.min_taint"), taint, t("tasks.min_taint_hint")) : null,
    field(t("tasks.title_field"), title)),
  h("label.check-inline", weekly, h("span", t("tasks.weekly"))),
  problem, send);
  return form;
}

/** A progress bar with "3 of 5 checked" beside it. */
export function progressBar(done, total) {
  const pct = total ? Math.round((100 * done) / total) : 0;
  return h("div.task-progress",
    h("progress", { max: total || 1, value: done, "aria-label": t("tasks.progress_label", { done: num(done), total: num(total) }) }),
    h("span.small", t("tasks.progress", { done: num(done), total: num(total), pct: num(pct) })));
}

/** "due 5 Mar" or the overdue chip. */
export function dueLine(task) {
  if (task.status === "done") return h("span.chip-status.sent", icon("pass"), t("tasks.done_on", { date: date(task.done_at) }));
  if (task.cancelled) return h("span.chip-status.workflow", t("tasks.cancelled"));
  if (task.progress.overdue) return h("span.deadline.overdue", icon("warning"), t("tasks.overdue_since", { date: date(task.due_at) }));
  return h("span.deadline", t("tasks.due_on", { date: date(task.due_at) }));
}

/** Cancel an open task or reopen a cancelled one, against the ETag read just before (a 412 says someone changed it). */
async function setStatus(task, status, onChange) {
  try {
    const res = await REFI.authFetch("/api/tasks/" + encodeURIComponent(task.id));
    if (!res.ok) throw new REFI.ApiError(res.status, await REFI.readBody(res));
    await REFI.api("/api/tasks/" + encodeURIComponent(task.id), { method: "PATCH", json: { status }, headers: { "If-Match": res.headers.get("ETag") } });
    toast(t(status === "cancelled" ? "tasks.cancelled_toast" : "tasks.reopened_toast"), "ok");
  } catch (err) {
    if (err instanceof REFI.SignedOutError) throw err;
    toast(errorText(err), "error");
  }
  onChange && onChange();
}

/** A task as a supervisor follows it: where, by when, by whom, how far, and what it found. */
export function taskCard(task, onChange) {
  const action = task.status === "open" ? ["cancelled", "tasks.cancel"] : task.cancelled ? ["open", "tasks.reopen"] : null;
  return h("li.card.task-card", { dataset: { task: task.id, status: task.status } },
    h("h3.small", task.title),
    h("p.item-line.small", h("strong", task.enterprise_name || task.enterprise_id), task.province ? h("span.muted", term("province", task.province)) : null, dueLine(task)),
    progressBar(task.progress.done, task.progress.total),
    h("p.small.muted", task.pool && !task.assignees.length ? t("tasks.in_pool", { province: term("province", task.pool_province) })
      : tn("tasks.inspectors", task.assignees.length)),
    h("details.task-items", h("summary", tn("tasks.items", task.items.length)),
      h("ul.task-item-list", task.items.map((i) => h("li.item-line.small", { dataset: { code: i.batch_code, status: i.status } },
        h("code.code", display(i.batch_code)), i.status === "done" ? h("span.chip-status.sent", icon("pass"), t("tasks.item_done")) : h("span.chip-status.pending", t("tasks.item_open")))))),
    task.finding_ids.length ? h("p.small", icon("flag"), tn("tasks.found", task.finding_ids.length), " ",
      task.finding_ids.map((id) => h("a", { href: "#/case/" + encodeURIComponent(id) }, id)).reduce((acc, a) => (acc.length ? acc.concat([", ", a]) : [a]), [])) : null,
    action && onChange ? h("button.secondary.small.task-status", { type: "button", onclick: () => setStatus(task, action[0], onChange) }, t(action[1])) : null);
}

/** The counts of a set of tasks as tiles, with a per-province table. */
export function statsBlock(stats) {
  const tile = (value, key, alert) => h("div.tile", { class: alert ? "alert" : null, dataset: { stat: key } },
    h("span.tile-value", num(value)), h("span.tile-label", t("tasks.stat_" + key)));
  return h("section.task-stats", { "aria-label": t("tasks.stats_title") },
    h("div.tiles", tile(stats.by_status.open, "open"), tile(stats.by_status.done, "done"), tile(stats.overdue, "overdue", stats.overdue > 0),
      tile(stats.findings, "findings")),
    progressBar(stats.items_done, stats.items),
    stats.provinces.length > 1 ? h("div.table-scroll", h("table.compliance-table.task-provinces",
      h("caption.small", t("tasks.by_province")),
      h("thead", h("tr", ["tasks.province", "tasks.stat_open", "tasks.stat_done", "tasks.stat_overdue"].map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", stats.provinces.map((p) => h("tr", h("th", { scope: "row" }, p.province ? term("province", p.province) : "–"), h("td", num(p.open)), h("td", num(p.done)), h("td", num(p.overdue))))))) : null);
}

/** Tasks made from one origin (a recall source, say): their counts and cards, painted into el. */
export async function originProgress(el, ref) {
  try {
    const [stats, list] = await Promise.all([
      REFI.api("/api/tasks/stats?origin_ref=" + encodeURIComponent(ref)),
      REFI.api("/api/tasks?page_size=50&origin_ref=" + encodeURIComponent(ref)),
    ]);
    if (!stats.body.total) {
      mount(el, h("p.muted", t("tasks.none_sent")));
      return;
    }
    mount(el, statsBlock(stats.body), h("ol.task-list", list.body.map((task) => taskCard(task, () => originProgress(el, ref)))));
  } catch (err) {
    if (err instanceof REFI.SignedOutError) throw err;
    mount(el, h("p.error", { role: "alert" }, icon("warning"), errorText(err)));
  }
}
