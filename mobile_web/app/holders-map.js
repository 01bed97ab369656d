// Where a recall's batches are now: each holder a numbered point at its registered place, drawn by the app itself
// (no map tiles: the app works offline and its CSP loads nothing from elsewhere). A coarse coastline and a degree
// grid give the points a frame; the numbered list beside it is what a screen reader reads.
import { h } from "./dom.js";
import { num, t, term, tn } from "./i18n.js";

// The mainland coast from the Yalu to the Beilun river mouth, and Hainan, at about 50 km: enough to place a point.
const COAST = [[124.3, 39.9], [122.3, 39.4], [121.2, 38.8], [121.6, 39.6], [122.2, 40.5], [121.0, 40.8], [119.6, 39.9],
  [118.3, 39.1], [117.7, 38.9], [118.0, 38.3], [118.9, 37.6], [119.8, 37.2], [120.7, 37.8], [122.5, 37.4], [121.5, 36.8],
  [120.4, 36.1], [119.4, 34.9], [120.3, 34.3], [120.9, 32.6], [121.9, 31.7], [121.9, 30.9], [121.0, 30.3], [121.9, 29.9],
  [121.5, 28.9], [120.7, 28.0], [120.2, 27.2], [119.6, 26.0], [119.0, 25.2], [118.1, 24.5], [117.2, 23.7], [116.7, 23.3],
  [115.5, 22.8], [114.2, 22.3], [113.5, 22.2], [112.4, 21.8], [111.0, 21.5], [110.4, 21.2], [110.2, 20.3], [109.7, 21.0],
  [109.1, 21.5], [108.0, 21.5]];
const HAINAN = [[108.6, 19.2], [109.6, 18.2], [110.6, 18.5], [111.0, 19.6], [110.4, 20.1], [109.2, 20.0], [108.6, 19.2]];
const MIN_SPAN = 8;

/** The holders of the rows, each once, with its batches and the tainted kg it still holds; numbered in list order. */
export function holdersOf(rows) {
  const by = new Map();
  for (const r of rows) {
    if (!by.has(r.holder_id)) {
      by.set(r.holder_id, { id: r.holder_id, name: r.holder_name || r.holder_id, province: r.province, city: r.city,
        location: r.location, batches: 0, tainted_kg: 0 });
    }
    const holder = by.get(r.holder_id);
    holder.batches += 1;
    if (r.status === "active") holder.tainted_kg += r.tainted_remaining_kg || 0;
  }
  return [...by.values()].sort((a, b) => b.tainted_kg - a.tainted_kg || a.name.localeCompare(b.name))
    .map((holder, i) => Object.assign(holder, { n: i + 1 }));
}

function frame(points) {
  const lons = points.map((p) => p.lon);
  const lats = points.map((p) => p.lat);
  let [w, e, s, n] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)];
  const padLon = Math.max(2.5, (MIN_SPAN - (e - w)) / 2);
  const padLat = Math.max(2.5, (MIN_SPAN - (n - s)) / 2);
  [w, e, s, n] = [w - padLon, e + padLon, s - padLat, n + padLat];
  const k = Math.cos(((s + n) / 2) * Math.PI / 180);
  // Landscape (4:3 at least), so a north-south spread does not make a map taller than the phone's screen.
  const widen = Math.max(0, ((n - s) * 4 / 3 / k - (e - w)) / 2);
  return { w: w - widen, e: e + widen, s, n, k };
}

/** The map of the holders that have a registered place; a note instead when none has. */
export function holdersMap(holders) {
  const placed = holders.filter((x) => x.location && Number.isFinite(x.location.lat) && Number.isFinite(x.location.lon));
  if (!placed.length) return h("p.muted.small", t("recall.map_none"));
  const f = frame(placed.map((x) => x.location));
  // Drawn at about the width it is shown at, so its numbers keep their CSS size on a phone.
  const width = Math.round(Math.max(280, Math.min(640, (document.documentElement.clientWidth || 640) - 40)));
  const height = Math.round(width * (f.n - f.s) / ((f.e - f.w) * f.k));
  const x = (lon) => ((lon - f.w) / (f.e - f.w)) * width;
  const y = (lat) => ((f.n - lat) / (f.n - f.s)) * height;
  const line = (pts) => pts.map(([lon, lat], i) => `${i ? "L" : "M"}${x(lon).toFixed(1)},${y(lat).toFixed(1)}`).join("");
  const grid = [];
  for (let lon = Math.ceil(f.w / 5) * 5; lon <= f.e; lon += 5) {
    grid.push(h("path.map-grid", { d: `M${x(lon)},0V${height}` }));
    if (x(lon) < width - 50) grid.push(h("text.map-degree", { x: x(lon) + 3, y: height - 6 }, `${lon}°E`)); // not cut at the edge
  }
  for (let lat = Math.ceil(f.s / 5) * 5; lat <= f.n; lat += 5) {
    grid.push(h("path.map-grid", { d: `M0,${y(lat)}H${width}` }));
    if (y(lat) > 20) grid.push(h("text.map-degree", { x: 4, y: y(lat) - 4 }, `${lat}°N`));
  }
  const most = Math.max(1, ...placed.map((p) => p.tainted_kg));
  // Holders at one place (a city's traders) are fanned out a little so every number stays readable.
  const taken = [];
  const dots = placed.map((p) => {
    let cx = x(p.location.lon);
    const cy = y(p.location.lat);
    while (taken.some(([tx, ty]) => Math.abs(tx - cx) < 30 && Math.abs(ty - cy) < 30)) cx += 30;
    taken.push([cx, cy]);
    const r = 11 + 9 * Math.sqrt(p.tainted_kg / most);
    return h("g.map-point", { class: p.tainted_kg ? "holding" : null },
      h("title", `${p.n}. ${p.name}`),
      h("circle", { cx, cy, r }),
      h("text", { x: cx, y: cy + 5, "text-anchor": "middle" }, String(p.n)));
  });
  return h("figure.holders-map",
    h("svg", { viewBox: `0 0 ${width} ${height}`, class: "map-svg", role: "img", "aria-label": tn("recall.map_label", placed.length), focusable: "false" },
      h("rect.map-sea", { x: 0, y: 0, width, height }), grid,
      h("path.map-coast", { d: line(COAST) }), h("path.map-coast", { d: line(HAINAN) }), dots),
    h("figcaption.small.muted", t("recall.map_caption")));
}

/** The numbered holders the map's points stand for. */
export function holdersList(holders) {
  return h("ol.holders-list", holders.map((x) => h("li", { dataset: { holder: x.id } },
    h("span.holder-n", { "aria-hidden": "true" }, String(x.n)),
    h("span", h("strong", x.name), h("span.block-line.small.muted", [x.city, x.province && term("province", x.province)].filter(Boolean).join(", ") || t("recall.no_place")),
      h("span.block-line.small", t("recall.holder_line", { batches: tn("trace.batches", x.batches), kg: num(x.tainted_kg, 1) }))))));
}
