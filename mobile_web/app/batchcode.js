// The native batch code check, ported from inspector/codes/batch_code.py: 'RE' + 8 characters + 1 check character
// from a 31-letter alphabet; the weighted sum (weight 3^i, i = 0 for the check character) is 0 mod 31.
export const ALPHABET = "23456789ABCDEFGHJKLMNPQRTUVWXYZ";
export const LENGTH = 11;
const SEPARATORS = /[\s\-_.]/g;

/** Upper-case the text and drop spaces, hyphens, dots and underscores. */
export function squeeze(text) {
  return String(text || "").toUpperCase().replace(SEPARATORS, "");
}

/** True when the input is meant as a GS1 code (bracketed, element string, or Digital Link): sent as is. */
export function looksGs1(text) {
  const t = String(text || "").trim();
  return t.startsWith("(") || /^\d/.test(t) || /^https?:/i.test(t) || t.startsWith("]");
}

function checksum(chars) {
  let total = 0;
  let weight = 1;
  for (let i = chars.length - 1; i >= 0; i--) {
    total += ALPHABET.indexOf(chars[i]) * weight;
    weight = (weight * 3) % 31;
  }
  return total % 31;
}

/**
 * Check typed input as the user types: {state, code?, problem?}.
 * state: "empty" | "gs1" | "incomplete" | "valid" | "typo" | "bad_chars" | "too_long" | "not_native".
 */
export function checkInput(text) {
  const raw = String(text || "").trim();
  if (!raw) return { state: "empty" };
  if (looksGs1(raw)) return { state: "gs1", code: raw };
  const s = squeeze(raw);
  if (!s.startsWith("RE") && !"RE".startsWith(s)) return { state: "not_native", code: raw };
  const bad = [...new Set([...s.slice(2)].filter((c) => !ALPHABET.includes(c)))];
  if (bad.length) return { state: "bad_chars", chars: bad, code: s };
  if (s.length < LENGTH) return { state: "incomplete", have: s.length, code: s };
  if (s.length > LENGTH) return { state: "too_long", have: s.length, code: s };
  return checksum(s) === 0 ? { state: "valid", code: s } : { state: "typo", code: s };
}

/** Group a canonical code for reading aloud: RE 8K3M 7QPD 4. */
export function display(code) {
  return /^RE[0-9A-Z]{9}$/.test(code) ? `${code.slice(0, 2)} ${code.slice(2, 6)} ${code.slice(6, 10)} ${code.slice(10)}` : code;
}
