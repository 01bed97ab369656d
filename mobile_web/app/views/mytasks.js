// Inspectors: "My tasks", the batches a supervisor sent me (or my province's pool) to check, by when and where.
// The list is kept on the phone, so it opens offline; scanning an item goes through the outbox like any scan, and the
// item shows as queued until the scan is sent, when the server marks it done.
import { display } from "../batchcode.js";
import { h, icon, mount, toast } from "../dom.js";
import { ago, num, t, term, tn } from "../i18n.js";
import { errorText, render } from "../main.js";
import { REFI, state } from "../state.js";
import { dueLine, progressBar } from "../tasks-ui.js";
import { startScan } from "./scan.js";

const cacheKey = () => "tasks:" + state.session.username;

/** The tasks from the server (kept for offline use), or the copy kept when the network is not there. */
async function loadTasks() {
  if (state.online) {
    try {
      const { body } = await REFI.api("/api/tasks/mine?page_size=100");
      const kept = { as_of: new Date().toISOString(), tasks: body };
      await REFI.idb.put("kv", kept, cacheKey());
      return Object.assign({ live: true }, kept);
    } catch (err) {
      if (!(err instanceof REFI.OfflineError)) throw err;
    }
  }
  const kept = await REFI.idb.get("kv", cacheKey());
  return Object.assign({ live: false }, kept || { as_of: null, tasks: [] });
}

/** {batch code: the newest local scan of it}, for this inspector. */
async function localScans() {
  const mine = (await REFI.idb.all("scans")).filter((s) => s.username === state.session.username && s.code);
  mine.sort((a, b) => (a.created_at < b.created_at ? -1 : 1));
  return new Map(mine.map((s) => [REFI.codeKey(s.code), s]));
}

/** An item's state as this phone knows it: done on the server, queued in the outbox, sent since the list was read. */
function itemState(item, scans, asOf) {
  if (item.status === "done") return "done";
  const scan = scans.get(item.batch_code);
  if (!scan) return "open";
  if (scan.state === "pending") return "queued";
  if (scan.state === "rejected") return "open";
  return asOf && scan.created_at > asOf ? "sent" : "open";
}

const STATE_CHIPS = {
  done: ["sent", "pass", "tasks.item_done"], queued: ["pending", "pending", "mytasks.queued"],
  sent: ["sent", "sync", "mytasks.sent"], open: ["workflow", "dot", "tasks.item_open"],
};

async function claim(task) {
  try {
    const res = await REFI.authFetch("/api/tasks/" + encodeURIComponent(task.id));
    if (!res.ok) throw new REFI.ApiError(res.status, await REFI.readBody(res));
    await REFI.api(`/api/tasks/${encodeURIComponent(task.id)}/claim`, { method: "POST", headers: { "If-Match": res.headers.get("ETag") } });
    toast(t("mytasks.claimed"), "ok");
  } catch (err) {
    if (err instanceof REFI.SignedOutError) throw err;
    toast(errorText(err), "error");
  }
  render();
}

function taskBlock(task, scans, asOf) {
  const states = task.items.map((i) => itemState(i, scans, asOf));
  const checked = states.filter((s) => s !== "open").length;
  const pool = task.pool && !task.assignees.length;
  return h("li.card.my-task", { dataset: { task: task.id } },
    h("h2.small", task.title),
    h("p.item-line.small", icon("location"), h("strong", (task.site && task.site.name) || task.enterprise_name || task.enterprise_id),
      task.site && task.site.type ? h("span.muted", term("site", task.site.type)) : null, task.province ? h("span.muted", term("province", task.province)) : null),
    h("p.item-line.small", dueLine(task), task.repeat_every_days ? h("span.chip-status.workflow", tn("mytasks.every_days", task.repeat_every_days)) : null),
    task.notes ? h("p.small", task.notes) : null,
    progressBar(checked, task.items.length),
    pool ? h("p.row.wrap", h("span.small", t("tasks.in_pool", { province: term("province", task.pool_province) })),
      h("button.secondary.small", { type: "button", disabled: !state.online, onclick: () => claim(task) }, t("mytasks.claim"))) : null,
    h("ul.my-items", task.items.map((item, i) => {
      const [chip, ic, key] = STATE_CHIPS[states[i]];
      return h("li.my-item", { dataset: { code: item.batch_code, state: states[i] } },
        h("div.my-item-text",
          h("code.code", display(item.batch_code)),
          h("span.block-line.small.muted", [term("product", item.product_type), t("mytasks.kg", { kg: num(item.remaining_kg) })].join(" · ")),
          h("span.chip-status." + chip, icon(ic), t(key))),
        states[i] === "open" ? h("button.primary.small", {
          type: "button", "aria-label": t("mytasks.scan_label", { code: display(item.batch_code) }),
          onclick: () => startScan({ code: item.batch_code, context: { site: task.site || undefined, holder_enterprise_id: task.enterprise_id } }),
        }, icon("scan"), t("mytasks.scan")) : null);
    })));
}

export default async function myTasksView(ctx) {
  const node = h("div.screen.my-tasks", h("h1", t("mytasks.title")));
  let loaded;
  try {
    loaded = await loadTasks();
  } catch (err) {
    if (err instanceof REFI.SignedOutError) throw err;
    node.append(h("p.error", { role: "alert" }, icon("warning"), errorText(err)));
    return node;
  }
  const scans = await localScans();
  const note = h("p.small.muted.tasks-as-of", { role: "status" },
    loaded.live ? t("mytasks.live") : loaded.as_of ? t("mytasks.kept", { when: ago(loaded.as_of) }) : t("mytasks.never"));
  if (!loaded.live) note.prepend(icon("offline"), " ");
  const open = loaded.tasks.filter((x) => x.status === "open");
  mount(node, h("h1", t("mytasks.title")), note,
    open.length ? h("p.lead", tn("mytasks.lead", open.length)) : null,
    open.length ? h("ol.my-task-list", open.map((task) => taskBlock(task, scans, loaded.as_of))) : h("p.empty", t("mytasks.none")));
  // A scan sent while the list is open marks its item on the server: read the list again.
  const again = () => { if (ctx.token() && state.online) render(); };
  self.addEventListener("refi:scan-judged", again);
  ctx.onCleanup(() => self.removeEventListener("refi:scan-judged", again));
  return node;
}
