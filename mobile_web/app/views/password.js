// Choose a new password: required after an administrator reset it, and available from settings.
import { field, firstMissing, h, labelOf, toast } from "../dom.js";
import { t } from "../i18n.js";
import { errorText, go, homeFor } from "../main.js";
import { REFI, changed, state } from "../state.js";

export default async function passwordView() {
  const forced = Boolean(state.session.must_change_password);
  const current = h("input", { type: "password", name: "current_password", autocomplete: "current-password", required: true });
  const next = h("input", { type: "password", name: "new_password", autocomplete: "new-password", required: true });
  const again = h("input", { type: "password", name: "repeat_password", autocomplete: "new-password", required: true });
  const message = h("p.form-error", { role: "alert" });
  const submit = h("button.primary.big", { type: "submit" }, t("password.save"));
  const form = h("form.card.narrow.password", {
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
      if (next.value !== again.value) {
        message.textContent = t("password.mismatch");
        again.focus();
        return;
      }
      submit.disabled = true;
      try {
        await REFI.api("/api/auth/password", { method: "POST", json: { current_password: current.value, new_password: next.value } });
        const session = Object.assign(await REFI.getSession(), { must_change_password: false });
        await REFI.idb.put("kv", session, "session");
        state.session = session;
        changed();
        toast(t("password.changed"), "ok");
        go(homeFor(session.role));
      } catch (err) {
        if (err instanceof REFI.SignedOutError) throw err;
        message.textContent = errorText(err);
        submit.disabled = false;
      }
    },
  },
  h("h1", t("password.title")),
  forced ? h("p.lead", t("password.lead_forced")) : null,
  field(t("password.current"), current),
  field(t("password.new"), next, t("password.hint")),
  field(t("password.repeat"), again),
  message,
  submit);
  return form;
}
