// The inspector's home: scan with the camera, photograph the label, or type the code; the site is set once.
import { checkInput, display } from "../batchcode.js";
import { field, h, icon, mount, toast } from "../dom.js";
import { t, term } from "../i18n.js";
import { errorText, go } from "../main.js";
import { LiveScanner, decodeLocally, downscale, locate, trustedAlone } from "../media.js";
import { REFI, demoCases, loadSetting, saveSetting, state } from "../state.js";

export const SITE_TYPES = ["market", "port", "warehouse", "factory", "other"];
const LOCATION_FRESH_MS = 5 * 60 * 1000;
// A scan never waits for a GPS fix: it takes the last one kept, up to this old, with its age and accuracy.
const LOCATION_USABLE_MS = 30 * 60 * 1000;

export async function currentSite() {
  return loadSetting("site", { type: "market", name: "" });
}

/** The phone's position if we have a recent one; starts a fresh reading in the background either way. */
export async function recentLocation({ wait = 0 } = {}) {
  const fresh = locate().then(async (loc) => {
    await saveSetting("location", Object.assign({ at: Date.now() }, loc));
    return loc;
  }).catch(() => null);
  const kept = await loadSetting("location", null);
  if (kept && Date.now() - kept.at < LOCATION_FRESH_MS) return { lat: kept.lat, lon: kept.lon, accuracy_m: kept.accuracy_m };
  if (wait) return Promise.race([fresh, new Promise((r) => setTimeout(() => r(null), wait))]);
  return null;
}

/** The last fix kept (not waiting for a new one, which starts in the background), if not too old. */
async function lastFix() {
  recentLocation();
  const kept = await loadSetting("location", null);
  if (!kept || Date.now() - kept.at > LOCATION_USABLE_MS) return null;
  return { location: { lat: kept.lat, lon: kept.lon, accuracy_m: kept.accuracy_m ?? null }, at: kept.at };
}

/** Save a scan in the outbox and open its result; the result screen sends it (or shows it queued). */
export async function startScan({ code = null, photo = null, context = {} }) {
  const site = context.site || (await currentSite());
  const fix = context.location ? { location: context.location, at: Date.now() } : await lastFix();
  const location = fix && fix.location;
  const record = {
    client_id: REFI.uuid(),
    username: state.session.username,
    code,
    photo,
    scanned_at: new Date().toISOString(),
    site: { type: site.type, name: site.name || null },
    location: location || null,
    location_at: fix ? new Date(fix.at).toISOString() : null, // kept on the phone only: the age the result screen shows
    observed_mass_kg: context.observed_mass_kg ?? null,
    holder_enterprise_id: context.holder_enterprise_id || null,
  };
  // Offline, the result screen shows the last known verdict for the code while the scan waits: sent along, so a
  // different server verdict reaches the inspector's inbox.
  const shown = code && !navigator.onLine ? await REFI.cachedResult(code) : null;
  record.shown_status = (shown && shown.result && shown.result.verdict && shown.result.verdict.status) || null;
  await REFI.queueScan(record);
  go("#/result/" + record.client_id);
}

function siteCard(site, onChange) {
  const summary = h("p.site-summary");
  const paint = () => mount(summary, h("strong", term("site", site.type)), site.name ? " · " + site.name : h("span.muted", " · " + t("site.no_name")));
  paint();
  const type = h("select", { name: "site_type" }, SITE_TYPES.map((s) => h("option", { value: s, selected: s === site.type }, term("site", s))));
  const name = h("input", { name: "site_name", value: site.name || "", autocomplete: "off", maxlength: 200 });
  const form = h("form.site-form", {
    hidden: true,
    onsubmit: async (e) => {
      e.preventDefault();
      site.type = type.value;
      site.name = name.value.trim();
      await saveSetting("site", site);
      paint();
      form.hidden = true;
      toggle.setAttribute("aria-expanded", "false");
      onChange && onChange(site);
    },
  }, field(t("site.type"), type), field(t("site.name"), name), h("button.primary", { type: "submit" }, t("site.save")));
  const toggle = h("button.secondary.small", {
    type: "button", "aria-expanded": "false",
    onclick: () => {
      form.hidden = !form.hidden;
      toggle.setAttribute("aria-expanded", String(!form.hidden));
      if (!form.hidden) type.focus();
    },
  }, t("site.change"));
  return h("section.card.site", { "aria-label": t("site.title") },
    h("div.row.between", h("div", h("h2.small", t("site.title")), summary), toggle), form);
}

function feedbackFor(result) {
  switch (result.state) {
    case "valid": return ["ok", t("code.valid", { code: display(result.code) })];
    case "typo": return ["bad", t("code.typo")];
    case "bad_chars": return ["bad", t("code.bad_chars", { chars: result.chars.join(" ") })];
    case "incomplete": return ["info", t("code.incomplete", { n: 11 - result.have })];
    case "too_long": return ["bad", t("code.too_long", { n: result.have })];
    case "gs1": return ["info", t("code.gs1")];
    case "not_native": return ["warn", t("code.not_native")];
    default: return ["info", t("code.hint")];
  }
}

function demoSheet(onPick) {
  const list = h("div.demo-list", h("p", t("common.loading")));
  const dialog = h("dialog.sheet", { "aria-labelledby": "demo-title" },
    h("div.sheet-head", h("h2#demo-title", t("demo.sheet_title")),
      h("button.icon-button", { type: "button", "aria-label": t("common.close"), onclick: () => dialog.close() }, icon("close"))),
    h("p.muted", t("demo.sheet_lead")), list);
  dialog.addEventListener("click", (e) => { if (e.target === dialog) dialog.close(); });
  demoCases().then((cases) => {
    if (!cases.length) {
      mount(list, h("p", t("demo.none")));
      return;
    }
    mount(list, cases.map((c) => h("button.demo-case", {
      type: "button", dataset: { code: c.code },
      onclick: () => { dialog.close(); onPick(c); },
    },
    h("span.badge." + c.expected_status, icon(c.expected_status), t("verdict." + c.expected_status)),
    h("code.code", c.code),
    h("span.demo-desc", (c.expected_reasons || []).map((r) => t(`reason.${r}.title`)).join(", ") || t("demo.clean")))));
  });
  return dialog;
}

function cameraOverlay(onFound, onClose) {
  const video = h("video", { playsinline: true, muted: true, "aria-label": t("camera.preview") });
  const hint = h("p.camera-hint", { role: "status" }, t("camera.hint"));
  const scanner = new LiveScanner(video);
  const torch = h("button.secondary", { type: "button", hidden: true, "aria-pressed": "false" }, icon("torch"), t("camera.torch"));
  let torchOn = false;
  torch.addEventListener("click", async () => {
    torchOn = !torchOn;
    torch.setAttribute("aria-pressed", String(torchOn));
    try { await scanner.setTorch(torchOn); } catch (err) { torch.hidden = true; }
  });
  const close = () => { scanner.stop(); overlay.remove(); onClose && onClose(); };
  const overlay = h("div.camera", { role: "dialog", "aria-modal": "true", "aria-label": t("camera.title") },
    video, h("div.camera-frame", { "aria-hidden": "true" }), hint,
    h("div.camera-actions", torch, h("button.primary.big", { type: "button", onclick: close }, t("common.cancel"))));
  document.body.appendChild(overlay);
  (async () => {
    try {
      await scanner.start();
      torch.hidden = !scanner.torchSupported();
      const found = await scanner.scan();
      if (found && found.length) {
        if (navigator.vibrate) navigator.vibrate(80);
        scanner.stop();
        overlay.remove();
        onFound(found);
      }
    } catch (err) {
      hint.textContent = t("camera.denied");
      hint.classList.add("error");
    }
  })();
  return close;
}

/** Pick the code to judge when a label carries several: a valid native code, then GS1, then the first. */
function bestCode(codes) {
  const rank = (c) => ({ valid: 0, gs1: 1 }[checkInput(c.text).state] ?? 2);
  return [...codes].sort((a, b) => rank(a) - rank(b))[0];
}

export default async function scanView(ctx) {
  const site = await currentSite();
  const details = { holder: h("input", { name: "holder_enterprise_id", autocomplete: "off", autocapitalize: "characters", maxlength: 64 }),
    mass: h("input", { name: "observed_mass_kg", type: "number", inputmode: "decimal", min: "0", step: "0.1" }) };
  const input = h("input.code-input", {
    name: "code", autocomplete: "off", autocapitalize: "characters", spellcheck: "false", autocorrect: "off",
    enterkeyhint: "go", placeholder: "RE 8K3M 7QPD 4", maxlength: 300,
  });
  const feedback = h("p.code-feedback", { id: "code-feedback", "aria-live": "polite" });
  input.setAttribute("aria-describedby", "code-feedback");
  const status = h("div.scan-status", { role: "status", "aria-live": "polite" });
  let demoContext = null;

  const paintFeedback = () => {
    const [kind, text] = feedbackFor(checkInput(input.value));
    feedback.className = "code-feedback " + kind;
    feedback.replaceChildren(icon(kind === "ok" ? "pass" : kind === "bad" ? "fail" : kind === "warn" ? "warning" : "dot"), h("span", text));
    input.setAttribute("aria-invalid", String(kind === "bad"));
  };
  input.addEventListener("input", () => { demoContext = null; paintFeedback(); });
  paintFeedback();

  const context = () => {
    const extra = demoContext ? Object.assign({}, demoContext) : {};
    if (details.holder.value.trim()) extra.holder_enterprise_id = details.holder.value.trim().toUpperCase();
    if (details.mass.value !== "") extra.observed_mass_kg = Number(details.mass.value);
    return extra;
  };

  const submit = async (e) => {
    e.preventDefault();
    const result = checkInput(input.value);
    if (result.state === "empty") {
      input.focus();
      return;
    }
    // A typo is still sent when the user insists: the server records the malformed scan too.
    if (result.state === "typo" && input.dataset.confirmed !== input.value) {
      input.dataset.confirmed = input.value;
      feedback.classList.add("shake");
      toast(t("code.typo_confirm"), "warn");
      return;
    }
    const code = result.state === "valid" ? result.code : input.value.trim();
    await startScan({ code, context: context() });
  };

  const photoInput = h("input.visually-hidden", { type: "file", accept: "image/*", capture: "environment", id: "label-photo", "aria-label": t("scan.photo") });
  photoInput.addEventListener("change", async () => {
    const file = photoInput.files && photoInput.files[0];
    photoInput.value = "";
    if (!file) return;
    mount(status, h("p", t("scan.reading_photo")));
    try {
      const small = await downscale(file);
      let codes = trustedAlone(await decodeLocally(small));
      if (!codes.length && state.online) {
        const form = new FormData();
        form.append("image", small, "label.jpg");
        try {
          const { body } = await REFI.api("/api/decode", { method: "POST", body: form });
          codes = body.codes || [];
          if (!codes.length) {
            mount(status, h("p.error", t("scan.no_code"), " ", body.hint ? h("span.muted", body.hint) : null));
            input.focus();
            return;
          }
        } catch (err) {
          if (!(err instanceof REFI.OfflineError)) throw err;
        }
      }
      if (!codes.length) {
        // Offline and unreadable here: the server reads the photo when the outbox is sent.
        await startScan({ photo: small, context: context() });
        return;
      }
      if (codes.length > 1) {
        mount(status, h("div.card", h("h2.small", t("scan.several_codes")), codes.map((c) => h("button.secondary.block", {
          type: "button", onclick: () => startScan({ code: c.text, context: context() }),
        }, h("code", c.text), h("span.muted", " " + c.format)))));
        return;
      }
      await startScan({ code: bestCode(codes).text, context: context() });
    } catch (err) {
      mount(status, h("p.error", errorText(err)));
    }
  });

  const actions = h("div.scan-actions",
    LiveScanner.available() ? h("button.primary.huge", {
      type: "button",
      onclick: () => cameraOverlay((codes) => startScan({ code: bestCode(codes).text, context: context() })),
    }, icon("camera"), t("scan.camera")) : h("p.muted", t("scan.camera_needs_https")),
    h("label.button.secondary.big", { for: "label-photo" }, icon("photo"), t("scan.photo")), photoInput);

  const demo = state.meta && state.meta.demo ? demoSheet((c) => {
    input.value = c.code;
    demoContext = Object.assign({}, c.scan);
    details.holder.value = c.scan.holder_enterprise_id || "";
    details.mass.value = c.scan.observed_mass_kg ?? "";
    paintFeedback();
    startScan({ code: c.code, context: demoContext });
  }) : null;

  const manual = h("form.card.manual", { onsubmit: submit, novalidate: true },
    h("h2.small", icon("keyboard"), t("scan.type_code")),
    h("div.field", h("label", { for: "code-input" }, t("scan.code_label")), Object.assign(input, { id: "code-input" }), feedback),
    h("details.more", h("summary", t("scan.more_details")),
      field(t("scan.holder"), details.holder, t("scan.holder_hint")),
      field(t("scan.mass"), details.mass)),
    h("button.primary.big", { type: "submit" }, t("scan.check")));

  const node = h("div.screen.scan",
    h("h1.visually-hidden", t("scan.title")),
    siteCard(site),
    status,
    actions,
    manual,
    demo ? h("button.secondary.big.demo-open", { type: "button", onclick: () => demo.showModal() }, t("demo.try_codes")) : null,
    demo);
  if (demo && ctx.route.params.get("demo")) setTimeout(() => demo.isConnected && demo.showModal(), 0);
  // Ask for a position early, so the first scan carries one (the prompt appears once).
  recentLocation();
  return node;
}
