// A verdict told without looking: a distinct vibration and tone per verdict (pass one short, warning two, fail
// three long), each of which the inspector can turn off in Settings.
import { loadSetting } from "./state.js";

export const VIBRATION = { pass: [80], warning: [150, 100, 150], fail: [300, 120, 300, 120, 300] };
// [frequency Hz, seconds] per beep; a falling pitch for worse news.
const TONES = { pass: [[1320, 0.09]], warning: [[880, 0.14], [880, 0.14]], fail: [[440, 0.28], [440, 0.28], [440, 0.28]] };
const GAP = 0.1;

let audio = null;

function beep(pattern) {
  const Ctx = self.AudioContext || self.webkitAudioContext;
  if (!Ctx) return;
  audio = audio || new Ctx();
  if (audio.state === "suspended" && audio.resume) audio.resume();
  let at = audio.currentTime + 0.02;
  for (const [freq, seconds] of pattern) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.value = 0.2;
    osc.connect(gain).connect(audio.destination);
    osc.start(at);
    osc.stop(at + seconds);
    at += seconds + GAP;
  }
}

/** Vibrate and sound the verdict's own pattern, as the settings allow; never throws. */
export async function announce(status) {
  if (!VIBRATION[status]) return;
  try {
    if (navigator.vibrate && (await loadSetting("vibrate", true))) navigator.vibrate(VIBRATION[status]);
  } catch (err) { /* the device refused */ }
  try {
    if (await loadSetting("sound", true)) beep(TONES[status]);
  } catch (err) { /* no audio output */ }
}
