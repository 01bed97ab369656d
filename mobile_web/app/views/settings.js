// Language, account and device, storage, and signing out (which revokes this device's tokens).
import { h, icon, toast } from "../dom.js";
import { ago, currentLanguage, LANGUAGES, num, setLanguage, t, term } from "../i18n.js";
import { errorText, go, render } from "../main.js";
import { REFI, changed, loadSetting, roleCanScan, saveSetting, state } from "../state.js";

async function storageLine() {
  const line = h("p.muted");
  if (!navigator.storage) return line;
  const [persisted, estimate] = await Promise.all([
    navigator.storage.persisted ? navigator.storage.persisted().catch(() => false) : false,
    navigator.storage.estimate ? navigator.storage.estimate().catch(() => null) : null,
  ]);
  line.textContent = t(persisted ? "settings.storage_persistent" : "settings.storage_best_effort") +
    (estimate ? " · " + t("settings.storage_used", { mb: num((estimate.usage || 0) / 1048576, 1) }) : "");
  return line;
}

/** The user's signed-in devices; any other one (a lost phone) can be signed out from here. */
async function devicesCard(s) {
  const card = h("section.card", h("h2.small", t("settings.devices")));
  if (!state.online) {
    card.appendChild(h("p.muted", t("error.offline")));
    return card;
  }
  let list;
  try {
    list = (await REFI.api("/api/auth/sessions")).body;
  } catch (err) {
    if (err instanceof REFI.SignedOutError) throw err;
    card.appendChild(h("p.muted", t("error.offline")));
    return card;
  }
  card.appendChild(h("ul.items", list.map((d) => h("li.item",
    h("div.item-main", h("div.item-line", h("strong", d.device_name || t("settings.unnamed_device")), d.current ? h("span.chip-status.workflow", t("settings.this_device")) : null),
      h("div.item-line.muted", t("settings.last_used", { when: ago(d.last_used_at) }))),
    h("div.item-side", d.current ? null : h("button.danger.small", {
      type: "button",
      onclick: async (e) => {
        e.currentTarget.disabled = true;
        try {
          await REFI.api("/api/auth/sessions/" + encodeURIComponent(d.id), { method: "DELETE" });
          toast(t("settings.device_signed_out"), "ok");
          render();
        } catch (err) { toast(errorText(err), "error"); }
      },
    }, t("settings.device_signout")))))));
  return card;
}

export default async function settingsView() {
  const s = state.session;
  const languages = h("fieldset.languages", h("legend", t("settings.language")),
    LANGUAGES.map((l) => h("label.radio-row", { lang: l.code },
      h("input", {
        type: "radio", name: "language", value: l.code, checked: l.code === currentLanguage(),
        onchange: async () => {
          await setLanguage(l.code);
          await saveSetting("language", l.code);
          changed();
          render();
        },
      }),
      h("span", l.name))));

  const signOut = h("button.danger.big", {
    type: "button",
    onclick: async () => {
      const pending = await REFI.pendingCount(s.username);
      if (pending && !confirm(t("settings.signout_pending", { n: pending }))) return;
      signOut.disabled = true;
      const revoked = await REFI.logout();
      state.session = null;
      changed();
      toast(revoked ? t("settings.signed_out") : t("settings.signed_out_offline"), revoked ? "ok" : "warn");
      go("#/login");
    },
  }, t("settings.signout"));

  // Scanners feel and hear each verdict (and a queued scan that comes back FAIL or WARNING); both can be turned off.
  const vibrate = roleCanScan(s.role) ? h("section.card.alerts-card", h("h2.small", t("phone.alerts")),
    h("label.check-inline", h("input", {
      type: "checkbox", name: "vibrate", checked: await loadSetting("vibrate", true),
      onchange: (e) => saveSetting("vibrate", e.target.checked),
    }), h("span", t("phone.vibrate"))),
    h("label.check-inline", h("input", {
      type: "checkbox", name: "sound", checked: await loadSetting("sound", true),
      onchange: (e) => saveSetting("sound", e.target.checked),
    }), h("span", t("phone.sound"))),
    h("p.muted.small", t("phone.signal_patterns"))) : null;

  return h("div.screen.settings",
    h("h1", t("settings.title")),
    h("section.card", languages),
    vibrate,
    h("section.card", h("h2.small", t("settings.account")),
      h("dl.facts",
        h("div.fact", h("dt", t("settings.user")), h("dd", s.username)),
        h("div.fact", h("dt", t("settings.role")), h("dd", t("role." + s.role))),
        s.enterprise_id ? h("div.fact", h("dt", t("settings.enterprise")), h("dd", s.enterprise_id)) : null,
        s.provinces && s.provinces.length ? h("div.fact", h("dt", t("settings.provinces")), h("dd", s.provinces.map((p) => term("province", p)).join(", "))) : null,
        h("div.fact", h("dt", t("settings.device")), h("dd", h("code", (s.device_id || "").slice(0, 8))))),
      h("div.settings-actions", h("a.button.secondary.big", { href: "#/password" }, t("settings.change_password")), signOut)),
    await devicesCard(s),
    h("section.card", h("h2.small", t("settings.storage")), await storageLine()),
    state.meta && state.meta.demo ? h("section.card.demo-note", icon("warning"), h("p", state.meta.notice || t("demo.banner"))) : null,
    h("p.muted.small", h("a", { href: "/api/docs", target: "_blank", rel: "noopener" }, t("settings.api_docs"))));
}
