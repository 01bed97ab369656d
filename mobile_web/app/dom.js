// A small DOM builder: every text goes in through textContent, so nothing from the server is parsed as HTML.
const SVG_NS = "http://www.w3.org/2000/svg";
const SVG_TAGS = new Set(["svg", "path", "rect", "circle", "line", "polyline", "polygon", "g", "text", "title", "tspan"]);

/** Build an element: h("button.primary", {onclick, "aria-label": ...}, "text", child, [children]). */
export function h(spec, attrs, ...children) {
  if (attrs === null || attrs === undefined || typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs)) {
    if (attrs !== null && attrs !== undefined) children.unshift(attrs);
    attrs = {};
  }
  const [tag, ...classes] = spec.split(".");
  const [name, id] = tag.split("#");
  const el = SVG_TAGS.has(name) ? document.createElementNS(SVG_NS, name) : document.createElement(name || "div");
  if (id) el.id = id;
  if (classes.length) el.setAttribute("class", classes.join(" "));
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.setAttribute("class", [el.getAttribute("class"), value].filter(Boolean).join(" "));
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value" && "value" in el) el.value = value;
    else if (key === "checked" || key === "selected" || key === "disabled" || key === "multiple" || key === "hidden" || key === "required") el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's children. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A labelled form field: label, control and optional hint, wired for screen readers. */
export function field(label, control, hint) {
  const id = control.id || (control.id = "f-" + Math.random().toString(36).slice(2, 9));
  const hintEl = hint ? h("p.hint", { id: id + "-hint" }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div.field", h("label", { for: id }, label), control, hintEl);
}

/** The first empty required control of a form, each empty one marked aria-invalid: forms say what is missing in
 *  the app's own words (novalidate), never with the browser's bubble in the browser's language. */
export function firstMissing(form) {
  let first = null;
  for (const el of form.querySelectorAll("[required]")) {
    if (!String(el.value || "").trim()) {
      el.setAttribute("aria-invalid", "true");
      first = first || el;
    } else {
      el.removeAttribute("aria-invalid");
    }
  }
  return first;
}

/** The text of a control's label. */
export function labelOf(el) {
  const label = el.id && el.ownerDocument.querySelector(`label[for="${el.id}"]`);
  return label ? label.textContent.trim() : el.name;
}

let toastTimer = null;

/** Show a short message in the polite live region. */
export function toast(message, kind = "info") {
  const el = document.getElementById("toast");
  if (!el) return;
  el.textContent = message;
  el.className = "toast show " + kind;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.className = "toast"; }, 4500);
}

/** An inline SVG icon from the small set below. */
export function icon(name, label) {
  const paths = ICONS[name] || ICONS.dot;
  const svg = h("svg", { viewBox: "0 0 24 24", class: "icon", "aria-hidden": label ? null : "true", role: label ? "img" : null, focusable: "false" },
    label ? h("title", label) : null,
    ...paths.map((d) => h("path", { d })));
  return svg;
}

const ICONS = {
  edit: ["M3 17.25V21h3.75L17.81 9.94l-3.75-3.75L3 17.25zM20.71 7.04a1 1 0 0 0 0-1.41l-2.34-2.34a1 1 0 0 0-1.41 0l-1.83 1.83 3.75 3.75 1.83-1.83z"],
  pass: ["M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4z"],
  warning: ["M1 21h22L12 2 1 21zm12-3h-2v-2h2v2zm0-4h-2v-4h2v4z"],
  fail: ["M12 2C6.5 2 2 6.5 2 12s4.5 10 10 10 10-4.5 10-10S17.5 2 12 2zm5 13.6L15.6 17 12 13.4 8.4 17 7 15.6 10.6 12 7 8.4 8.4 7 12 10.6 15.6 7 17 8.4 13.4 12z"],
  pending: ["M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 18a8 8 0 1 1 0-16 8 8 0 0 1 0 16zm.5-13H11v6l5.2 3.2.8-1.3-4.5-2.7z"],
  camera: ["M12 15.2a3.2 3.2 0 1 0 0-6.4 3.2 3.2 0 0 0 0 6.4z", "M9 2 7.2 4H4a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2h-3.2L15 2H9zm3 15a5 5 0 1 1 0-10 5 5 0 0 1 0 10z"],
  photo: ["M21 19V5a2 2 0 0 0-2-2H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2zM8.5 13.5l2.5 3 3.5-4.5 4.5 6H5l3.5-4.5z"],
  keyboard: ["M20 5H4a2 2 0 0 0-2 2v10a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2zm-9 3h2v2h-2V8zm0 3h2v2h-2v-2zM8 8h2v2H8V8zm0 3h2v2H8v-2zm-1 2H5v-2h2v2zm0-3H5V8h2v2zm9 7H8v-2h8v2zm0-4h-2v-2h2v2zm0-3h-2V8h2v2zm3 3h-2v-2h2v2zm0-3h-2V8h2v2z"],
  sync: ["M12 4V1L8 5l4 4V6a6 6 0 0 1 6 6 6 6 0 0 1-.7 2.8l1.5 1.5A8 8 0 0 0 12 4zm0 14a6 6 0 0 1-6-6c0-1 .2-2 .7-2.8L5.2 7.7A8 8 0 0 0 12 20v3l4-4-4-4v3z"],
  history: ["M13 3a9 9 0 0 0-9 9H1l4 4 4-4H6a7 7 0 1 1 2 4.9l-1.4 1.4A9 9 0 1 0 13 3zm-1 5v5l4.3 2.5.7-1.2-3.5-2.1V8H12z"],
  settings: ["M19.4 13a7.5 7.5 0 0 0 0-2l2.1-1.6-2-3.5-2.5 1a7.3 7.3 0 0 0-1.7-1L15 3h-4l-.4 2.7a7.3 7.3 0 0 0-1.7 1l-2.5-1-2 3.5L6.6 11a7.5 7.5 0 0 0 0 2l-2.1 1.6 2 3.5 2.5-1c.5.4 1.1.7 1.7 1L11 21h4l.4-2.7c.6-.3 1.2-.6 1.7-1l2.5 1 2-3.5-2.2-1.8zM13 15.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7z"],
  scan: ["M3 5v4h2V5h4V3H5a2 2 0 0 0-2 2zm2 10H3v4a2 2 0 0 0 2 2h4v-2H5v-4zm14 4h-4v2h4a2 2 0 0 0 2-2v-4h-2v4zm0-16h-4v2h4v4h2V5a2 2 0 0 0-2-2zM7 11h10v2H7z"],
  list: ["M3 13h2v-2H3v2zm0 4h2v-2H3v2zm0-8h2V7H3v2zm4 4h14v-2H7v2zm0 4h14v-2H7v2zM7 7v2h14V7H7z"],
  chart: ["M5 9.2h3V19H5V9.2zM10.6 5h2.8v14h-2.8V5zm5.6 8H19v6h-2.8v-6z"],
  flag: ["M14.4 6 14 4H5v17h2v-7h5.6l.4 2h7V6z"],
  location: ["M12 2a7 7 0 0 0-7 7c0 5.3 7 13 7 13s7-7.7 7-13a7 7 0 0 0-7-7zm0 9.5a2.5 2.5 0 1 1 0-5 2.5 2.5 0 0 1 0 5z"],
  close: ["M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z"],
  offline: ["M23.6 7A17.4 17.4 0 0 0 12 3c-1.8 0-3.5.3-5.2.8l2.5 2.4c.9-.1 1.8-.2 2.7-.2 3.6 0 7 1.2 9.6 3.4L23.6 7zM3.3 2 2 3.3l2.1 2.1A17 17 0 0 0 .4 7L12 21.5l3.9-4.9 4.8 4.8 1.3-1.3L3.3 2z"],
  dot: ["M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8z"],
  back: ["M20 11H7.8l5.6-5.6L12 4l-8 8 8 8 1.4-1.4L7.8 13H20v-2z"],
  download: ["M19 9h-4V3H9v6H5l7 7 7-7zM5 18v2h14v-2H5z"],
  torch: ["M6 2h12v5l-3 4v11H9V11L6 7V2zm6 11.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"],
};

/** Save a fetched file the way a link download would, under its Content-Disposition name; return that name. */
export async function saveResponse(res, fallbackName) {
  const blob = await res.blob();
  const name = ((res.headers.get("Content-Disposition") || "").match(/filename="?([^";]+)"?/) || [])[1] || fallbackName;
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return name;
}
