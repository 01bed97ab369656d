// The inbox: what needs this user (a finding sent, a response, a deadline, a task), newest first, each linking to
// its case, task or enterprise; readable offline from the copy kept. Below it, the e-mail settings.
import { h, toast } from "../dom.js";
import { LANGUAGES, ago, t } from "../i18n.js";
import { errorText, render } from "../main.js";
import { countUnread, fetchInbox, flushRead, kept, linkOf, markRead } from "../inbox.js";
import { REFI, state } from "../state.js";

function itemRow(item) {
  const fresh = !item.read_at;
  const href = linkOf(item);
  const main = [h("div.item-line", fresh ? h("span.chip-status.inbox-new", t("inbox.new")) : null, h("strong", item.title)),
    h("div.item-line", item.body), h("div.item-line.muted", ago(item.created_at))];
  const open = () => { if (fresh) markRead([item.id]); };
  return h("li.item.inbox-item" + (fresh ? ".unread" : ""),
    href ? h("a.item-main", { href, onclick: open }, main) : h("div.item-main", main),
    fresh ? h("div.item-side", h("button.secondary.small", {
      type: "button", onclick: async () => { await markRead([item.id]); render(); },
    }, t("inbox.mark_read"))) : null);
}

async function settingsCard() {
  const card = h("section.card", h("h2.small", t("inbox.email_title")));
  let current;
  try {
    current = (await REFI.api("/api/notifications/settings")).body;
  } catch (err) {
    if (err instanceof REFI.SignedOutError) throw err;
    card.appendChild(h("p.muted", t("inbox.settings_offline")));
    return card;
  }
  const email = h("input", { type: "email", id: "inbox-email", name: "email", value: current.email || "", autocomplete: "email" });
  const kinds = current.kinds.map((k) => h("label.check", h("input", { type: "checkbox", name: "kind", value: k, checked: current.email_kinds.includes(k) }), " ", t("inbox.kind." + k)));
  const mode = h("select", { id: "inbox-mode", name: "mode" },
    ["immediate", "digest"].map((m) => h("option", { value: m, selected: current.mode === m }, t("inbox.mode_" + m))));
  const language = h("select", { id: "inbox-language", name: "language" },
    LANGUAGES.map((l) => h("option", { value: l.code, selected: current.language === l.code }, l.name)));
  const form = h("form.stack", {
    onsubmit: async (e) => {
      e.preventDefault();
      const body = { email: email.value.trim() || null, mode: mode.value, language: language.value,
        email_kinds: [...form.querySelectorAll("input[name=kind]:checked")].map((c) => c.value) };
      try {
        await REFI.api("/api/notifications/settings", { method: "PUT", json: body });
        toast(t("inbox.saved"), "ok");
      } catch (err) { toast(errorText(err), "error"); }
    },
  },
  h("div.field", h("label", { for: email.id }, t("inbox.email_address")), email),
  h("fieldset.inbox-kinds", h("legend", t("inbox.email_kinds")), kinds),
  h("div.field", h("label", { for: mode.id }, t("inbox.mode")), mode),
  h("div.field", h("label", { for: language.id }, t("inbox.email_language")), language),
  h("button.primary", { type: "submit" }, t("inbox.save")));
  card.appendChild(h("p.muted", t("inbox.email_lead")));
  card.appendChild(form);
  return card;
}

export default async function inboxView() {
  await flushRead();
  const fetched = state.online ? await fetchInbox() : null;
  const read = fetched || (await kept());
  countUnread();
  const unread = read.items.filter((i) => !i.read_at);
  return h("div.inbox",
    h("div.row.between.wrap", h("h1", t("inbox.title")),
      unread.length ? h("button.secondary.small", { type: "button", onclick: async () => { await markRead(unread.map((i) => i.id)); render(); } }, t("inbox.mark_all")) : null),
    !fetched && read.asOf ? h("p.muted.inbox-asof", { role: "status" }, t("inbox.as_of", { when: ago(read.asOf) })) : null,
    read.items.length ? h("ul.items", read.items.map(itemRow)) : h("p.empty", t(!fetched && !read.asOf ? "inbox.offline_empty" : "inbox.empty")),
    state.online ? await settingsCard() : null);
}
