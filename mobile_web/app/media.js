// Camera, photos and decoding on the phone: BarcodeDetector where the browser has it, else the zxing-wasm
// reader we serve ourselves (never a CDN). Photos are downscaled before they leave the phone.
const MAX_EDGE = 1600;
const JPEG_QUALITY = 0.85;
const FORMATS = ["qr_code", "data_matrix", "code_128", "ean_13", "ean_8", "upc_a", "code_39", "itf"];

let zxingPromise = null;
let detectorPromise = null;

/** Downscale a photo to at most MAX_EDGE pixels on its long side, honouring EXIF orientation; returns a JPEG Blob. */
export async function downscale(file, maxEdge = MAX_EDGE) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" }).catch(() => createImageBitmap(file));
  const scale = Math.min(1, maxEdge / Math.max(bitmap.width, bitmap.height));
  const w = Math.max(1, Math.round(bitmap.width * scale));
  const h = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  canvas.getContext("2d").drawImage(bitmap, 0, 0, w, h);
  bitmap.close && bitmap.close();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", JPEG_QUALITY));
  // A small original may already be smaller than its re-encoded JPEG: keep whichever is smaller.
  return blob && (scale < 1 || blob.size < file.size) ? blob : file;
}

async function barcodeDetector() {
  if (!detectorPromise) {
    detectorPromise = (async () => {
      if (!("BarcodeDetector" in self)) return null;
      try {
        const supported = await self.BarcodeDetector.getSupportedFormats();
        const formats = FORMATS.filter((f) => supported.includes(f));
        return formats.length ? new self.BarcodeDetector({ formats }) : null;
      } catch (err) {
        return null;
      }
    })();
  }
  return detectorPromise;
}

async function zxing() {
  if (!zxingPromise) {
    zxingPromise = import("/vendor/zxing/es/reader/index.js").then((mod) => {
      mod.prepareZXingModule({
        overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? "/vendor/zxing/zxing_reader.wasm" : prefix + path) },
      });
      return mod;
    }).catch((err) => {
      zxingPromise = null;
      throw err;
    });
  }
  return zxingPromise;
}

const ZXING_OPTIONS = {
  formats: ["QRCode", "DataMatrix", "Code128", "EAN13", "EAN8", "UPCA", "Code39", "ITF"],
  tryHarder: true,
  maxNumberOfSymbols: 8,
  // The text as encoded (its ECI or charset, control characters kept), as the server reads it: the default (HRI)
  // pictures a Data Matrix's separators as symbols (U+241D) that no batch lookup matches.
  textMode: "Plain",
};

/** Which decoder this browser will use: "native", "wasm" or "server". */
export async function decoderKind() {
  if (await barcodeDetector()) return "native";
  try {
    await zxing();
    return "wasm";
  } catch (err) {
    return "server";
  }
}

function fromZxing(results) {
  return results.filter((r) => r.isValid !== false && r.text).map((r) => ({ text: r.text, format: r.format }));
}

const RETAIL = new Set(["ean13", "ean8", "upca", "upce"]);

/** The codes one read may be trusted with: a retail number (EAN, UPC) read once can be a misread of the bars, which
 * the server catches with a second reader, so those are left to it. */
export function trustedAlone(codes) {
  return codes.filter((c) => !RETAIL.has(String(c.format || "").toLowerCase().replace(/[^a-z0-9]/g, "")));
}

/** The pixels of a Blob as the browser decodes it (any format it shows, WebP too), or null. */
async function pixelsOf(blob) {
  const bitmap = await createImageBitmap(blob);
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  bitmap.close && bitmap.close();
  return context.getImageData(0, 0, canvas.width, canvas.height);
}

/** Decode every code in an image source (Blob, canvas or video frame) on the phone; [] when none or no decoder. */
export async function decodeLocally(source) {
  const detector = await barcodeDetector();
  if (detector) {
    try {
      const bitmap = source instanceof Blob ? await createImageBitmap(source) : source;
      const found = await detector.detect(bitmap);
      if (found.length) return found.map((b) => ({ text: b.rawValue, format: b.format }));
    } catch (err) { /* try the wasm reader */ }
  }
  try {
    const mod = await zxing();
    // The wasm reader decodes files itself, but not WebP: hand it the pixels the browser decoded instead.
    if (source instanceof Blob) return fromZxing(await mod.readBarcodes(await pixelsOf(source), ZXING_OPTIONS));
    const canvas = source instanceof HTMLCanvasElement ? source : null;
    if (canvas) {
      const data = canvas.getContext("2d", { willReadFrequently: true }).getImageData(0, 0, canvas.width, canvas.height);
      return fromZxing(await mod.readBarcodes(data, ZXING_OPTIONS));
    }
  } catch (err) { /* no local decoder: the server reads it */ }
  return [];
}

/** Live camera scanning: resolves with the first code seen, or null when cancelled. */
export class LiveScanner {
  constructor(video) {
    this.video = video;
    this.stream = null;
    this.stopped = false;
    this.canvas = document.createElement("canvas");
  }

  static available() {
    return Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia) && window.isSecureContext;
  }

  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: { ideal: "environment" }, width: { ideal: 1920 }, height: { ideal: 1080 } },
    });
    this.video.srcObject = this.stream;
    this.video.setAttribute("playsinline", "");
    this.video.muted = true;
    await this.video.play();
  }

  get track() {
    return this.stream ? this.stream.getVideoTracks()[0] : null;
  }

  torchSupported() {
    const caps = this.track && this.track.getCapabilities ? this.track.getCapabilities() : {};
    return Boolean(caps.torch);
  }

  async setTorch(on) {
    if (this.track) await this.track.applyConstraints({ advanced: [{ torch: on }] });
  }

  /** Decode frames until a code appears; about five frames a second keeps a phone cool. */
  async scan() {
    const detector = await barcodeDetector();
    while (!this.stopped) {
      if (this.video.readyState >= 2 && this.video.videoWidth) {
        let found = [];
        if (detector) {
          found = await detector.detect(this.video).catch(() => []);
          found = found.map((b) => ({ text: b.rawValue, format: b.format }));
        } else {
          const scale = Math.min(1, 1280 / this.video.videoWidth);
          this.canvas.width = Math.round(this.video.videoWidth * scale);
          this.canvas.height = Math.round(this.video.videoHeight * scale);
          this.canvas.getContext("2d", { willReadFrequently: true }).drawImage(this.video, 0, 0, this.canvas.width, this.canvas.height);
          found = await decodeLocally(this.canvas);
        }
        if (found.length) return found;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return null;
  }

  stop() {
    this.stopped = true;
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    this.stream = null;
    this.video.srcObject = null;
  }
}

/** Ask the phone where it is: {lat, lon, accuracy_m}, or throws with the browser's reason. */
export function locate(timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) return reject(new Error("unavailable"));
    navigator.geolocation.getCurrentPosition(
      (pos) => resolve({ lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy_m: Math.round(pos.coords.accuracy * 10) / 10 }),
      (err) => reject(err),
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 60000 },
    );
  });
}
