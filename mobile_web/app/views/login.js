// Sign in once per device; the session is kept in IndexedDB and refreshed as needed.
import { field, firstMissing, h, labelOf } from "../dom.js";
import { LANGUAGES, currentLanguage, setLanguage, t } from "../i18n.js";
import { errorText, onSignedIn, render } from "../main.js";
import { REFI, saveSetting, state } from "../state.js";

export default async function login() {
  const username = h("input", { name: "username", autocomplete: "username", autocapitalize: "none", spellcheck: "false", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const message = h("p.form-error", { role: "alert" });
  const submit = h("button.primary.big", { type: "submit" }, t("login.submit"));

  const form = h("form.card.login", {
    novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      message.textContent = "";
      const missing = firstMissing(form);
      if (missing) {
        message.textContent = t("phone.fill_in", { field: labelOf(missing) });
        missing.focus();
        return;
      }
      submit.disabled = true;
      try {
        const session = await REFI.login(username.value.trim(), password.value);
        onSignedIn(session);
      } catch (err) {
        message.textContent = err instanceof REFI.ApiError && err.status === 401 ? t("login.bad_credentials")
          : err instanceof REFI.ApiError && err.status === 429 ? t("login.too_many") : errorText(err);
        submit.disabled = false;
      }
    },
  },
  h("h1", t("login.title")),
  h("p.lead", t("login.lead")),
  field(t("login.username"), username),
  field(t("login.password"), password),
  message,
  submit);

  const languages = h("div.lang-switch", { role: "group", "aria-label": t("settings.language") },
    LANGUAGES.map((l) => h("button.chip", {
      type: "button", lang: l.code, "aria-pressed": String(l.code === currentLanguage()),
      onclick: async () => { await setLanguage(l.code); await saveSetting("language", l.code); render(); },
    }, l.name)));

  const demo = state.meta && state.meta.demo
    ? h("div.card.demo-hint", h("h2", t("login.demo_users")), h("p", t("login.demo_users_text")),
      h("ul.demo-users", ["inspector", "inspector2", "supervisor", "enterprise", "enterprise2", "admin"].map((u) => h("li", h("button.link", {
        type: "button", onclick: () => { username.value = u; password.value = "demo"; password.focus(); },
      }, u)))))
    : null;

  return h("div.narrow", languages, form, demo);
}
