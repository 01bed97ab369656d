// Message catalogs and formatting. English is built in; the others load on demand (and are precached).
import en from "./i18n/en.js";

export const LANGUAGES = [
  { code: "en", name: "English" },
  { code: "zh-CN", name: "简体中文" },
  { code: "id", name: "Bahasa Indonesia" },
  { code: "fr", name: "Français" },
];
const LOADERS = {
  "zh-CN": () => import("./i18n/zh-CN.js"),
  id: () => import("./i18n/id.js"),
  fr: () => import("./i18n/fr.js"),
};

let lang = "en";
let catalog = en;

export const currentLanguage = () => lang;

/** Pick the saved language, else the browser's, else English. */
export function preferredLanguage(saved) {
  const wanted = [saved, ...(navigator.languages || [navigator.language])].filter(Boolean);
  for (const w of wanted) {
    const exact = LANGUAGES.find((l) => l.code.toLowerCase() === w.toLowerCase());
    if (exact) return exact.code;
    const base = w.split("-")[0].toLowerCase();
    if (base === "zh") return "zh-CN";
    if (base === "in") return "id";
    const near = LANGUAGES.find((l) => l.code.split("-")[0] === base);
    if (near) return near.code;
  }
  return "en";
}

export async function setLanguage(code) {
  const known = LANGUAGES.some((l) => l.code === code) ? code : "en";
  catalog = known === "en" ? en : (await LOADERS[known]()).default;
  lang = known;
  document.documentElement.lang = known;
}

/** The message for key, with {name} placeholders filled; English, then the key itself, as fallbacks. */
export function t(key, params) {
  const text = catalog[key] ?? en[key] ?? key;
  return params ? fill(text, params) : text;
}

const pluralRules = {};

/** A counted message: "key.one" where the language has that form for n (English, French), else "key". */
export function tn(key, n, params) {
  pluralRules[lang] = pluralRules[lang] || new Intl.PluralRules(lang);
  const form = `${key}.${pluralRules[lang].select(Number(n))}`;
  return t(form in catalog ? form : key, Object.assign({ n: num(n) }, params));
}

/** True when the current catalog (or English) has the key. */
export const has = (key) => key in catalog || key in en;

function fill(text, params) {
  return text.replace(/\{(\w+)\}/g, (m, name) => (params[name] === undefined || params[name] === null ? m : String(params[name])));
}

const numberFormats = {};
export function num(value, digits = 0) {
  if (value === null || value === undefined || value === "" || Number.isNaN(Number(value))) return "–";
  const key = lang + digits;
  numberFormats[key] = numberFormats[key] || new Intl.NumberFormat(lang, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return numberFormats[key].format(Number(value));
}

export function date(value) {
  if (!value) return "–";
  const d = new Date(value.length === 10 ? value + "T00:00:00" : value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleDateString(lang, { year: "numeric", month: "short", day: "numeric" });
}

export function dateTime(value) {
  if (!value) return "–";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleString(lang, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

/** "3 minutes ago", in the current language. */
export function ago(value) {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return "";
  const seconds = Math.round((d.getTime() - Date.now()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  const steps = [[60, "second"], [60, "minute"], [24, "hour"], [30, "day"], [12, "month"], [Infinity, "year"]];
  let v = seconds;
  for (const [size, unit] of steps) {
    if (Math.abs(v) < size) return rtf.format(Math.round(v), unit);
    v /= size;
  }
  return "";
}

/** A domain value (stage, status, site type ...) by its catalog key, falling back to the raw value made readable. */
export function term(group, value) {
  if (value === null || value === undefined) return "–";
  const key = `${group}.${value}`;
  return has(key) ? t(key) : String(value).replace(/_/g, " ");
}

/** A verdict reason in the current language, built from its evidence; the server's English text as fallback. */
export function reasonMessage(reason) {
  const ev = reason.evidence || {};
  try {
    const builder = REASON_PARAMS[reason.code];
    const key = `reason.${reason.code}.message`;
    if (builder && has(key)) {
      const params = builder(ev);
      if (params) {
        const text = t(key, params);
        if (!/\{\w+\}/.test(text)) return text;
      }
    }
  } catch (err) { /* fall through to the server's sentence or the generic one */ }
  if (lang === "en" && reason.message) return reason.message;
  return has(`reason.${reason.code}.meaning`) ? t(`reason.${reason.code}.meaning`) : reason.message || reason.code;
}

export const reasonTitle = (code) => (has(`reason.${code}.title`) ? t(`reason.${code}.title`) : String(code).replace(/_/g, " "));

/** "2026-09" as the month's name in the current language. */
export function month(period) {
  const m = /^(\d{4})-(\d{2})$/.exec(String(period || ""));
  if (!m) return period;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 15)).toLocaleDateString(lang, { year: "numeric", month: "long", timeZone: "UTC" });
}

function periodsText(ev) {
  const list = ev.enterprises || [];
  // With one enterprise its name is already in the sentence.
  return list.map((e) => (list.length > 1 ? `${e.enterprise_name}: ` : "") + (e.periods || []).map((p) =>
    `${month(p.period)} (${t(p.submitted_at ? "late.entered_late" : "late.never_entered")})`).join(", ")).join("; ");
}

function gapText(ev) {
  if (ev.gap_text && lang === "en") return ev.gap_text;
  const minutes = ev.gap_minutes ?? (ev.gap_seconds != null ? ev.gap_seconds / 60 : ev.gap_hours != null ? ev.gap_hours * 60 : null);
  if (minutes == null) return ev.gap_text || "";
  return minutes < 120 ? t("unit.minutes", { n: num(minutes) }) : t("unit.hours", { n: num(minutes / 60, 1) });
}

const REASON_PARAMS = {
  unknown_code: (ev) => ({ code: ev.code }),
  forged_label: (ev) => ({ code: ev.code, problem_text: t("label_sig." + ev.problem) }),
  malformed_code: (ev) => (ev.typo ? { detail: t("code.typo") } : null),
  producer_not_approved: (ev) => ({ producer_name: ev.producer_name, approval_stage: term("approval", ev.approval_stage), produced_on: date(ev.produced_on) }),
  over_quota: (ev) => ({ producer_name: ev.producer_name, used_t: num(ev.used_t), allocated_t: num(ev.allocated_t), year: ev.year, category: term("category", ev.category) }),
  tainted_lineage: (ev) => ({
    batches: tn("unit.upstream_batches", ev.count ?? (ev.ancestors || []).length), first_code: ev.first_code, first_producer: ev.first_producer,
    reasons_text: [...new Set((ev.ancestors || []).flatMap((a) => a.reasons || []))].map((c) => reasonTitle(c)).join(", "),
  }),
  unrecorded_transfer: (ev) => ({ found_holder_name: ev.found_holder_name, recorded_holder_name: ev.recorded_holder_name }),
  quantity_mismatch: (ev) => ({ observed_kg: num(ev.observed_kg, 1), remaining_kg: num(ev.remaining_kg, 1), tolerance_pct: num(ev.tolerance_pct, 1) }),
  retired_code: (ev) => ({ status: term("batch_status", ev.status), since: date(ev.since) }),
  cloned_code: (ev) => ({ distance_km: num(ev.distance_km), gap_text: gapText(ev), speed_kmh: num(ev.speed_kmh) }),
  late_reporting: (ev) => ({ enterprise_name: ev.enterprise_name, periods_text: periodsText(ev) }),
  mass_balance: (ev) => ({ period: month(ev.period), producer_name: ev.producer_name, output_reo_t: num(ev.output_reo_t, 1), input_reo_t: num(ev.input_reo_t, 1), ceiling_pct: num(ev.ceiling_pct, 1) }),
  no_export_record: (ev) => ({ site_name: ev.site_name }),
  in_transit: (ev) => ({ from_name: ev.from_name, to_name: ev.to_name, doc_no: ev.doc_no, shipped_on: date(ev.shipped_on), days: num(ev.days) }),
  disputed_holder: (ev) => ({ claimant_name: ev.claimant_name, holder_name: ev.holder_name, doc_no: ev.doc_no, claimed_on: date(ev.claimed_on) }),
  unverified_import: (ev) => ({
    importer_name: ev.importer_name, declaration_no: ev.declaration_no,
    problems_text: listOf((ev.problems || []).map((p) => t("import_problem." + p.code, {
      ...p, booked_kg: num(p.booked_kg), declared_kg: num(p.declared_kg),
      declared: p.code === "date_mismatch" ? date(p.declared) : p.declared, reported: p.code === "date_mismatch" ? date(p.reported) : p.reported,
    }))),
  }),
};

function listOf(items) {
  try {
    return new Intl.ListFormat(lang, { type: "conjunction" }).format(items);
  } catch {
    return items.join("; ");
  }
}
