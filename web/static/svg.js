// svg.js: the few SVG shapes the charts and the fork tree need, built
// with DOM calls (no markup strings).
const NS = "http://www.w3.org/2000/svg";

// s builds an SVG element with attributes and children (text for strings).
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    el.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return el;
}

// lineChart draws points [{x, y}] as a line with a y grid of labelled
// steps; opts.target draws a dashed horizontal line there, opts.fmt
// formats y labels, opts.label names the chart for screen readers.
export function lineChart(points, opts) {
  const W = 1000, H = 240, L = 76, R = 12, T = 12, B = 28;
  const fmt = opts.fmt || String;
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": opts.label });
  svg.append(s("title", {}, opts.label));
  if (points.length < 2) {
    svg.append(s("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "not enough blocks yet"));
    return svg;
  }
  const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
  if (opts.target !== undefined) ys.push(opts.target);
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  let y0 = Math.min(0, ...ys), y1 = Math.max(...ys);
  if (y1 === y0) y1 = y0 + 1;
  y1 += (y1 - y0) * 0.05;
  const px = (x) => L + ((x - x0) / (x1 - x0 || 1)) * (W - L - R);
  const py = (y) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  for (let i = 0; i <= 4; i++) {
    const y = y0 + ((y1 - y0) * i) / 4;
    svg.append(s("line", { class: "grid", x1: L, x2: W - R, y1: py(y), y2: py(y) }),
      s("text", { x: L - 6, y: py(y) + 4, "text-anchor": "end" }, fmt(y)));
  }
  svg.append(s("line", { class: "axis", x1: L, x2: L, y1: T, y2: H - B }),
    s("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }),
    s("text", { x: L, y: H - 8 }, "height " + x0),
    s("text", { x: W - R, y: H - 8, "text-anchor": "end" }, "height " + x1));
  if (opts.target !== undefined) {
    svg.append(s("line", { class: "target", x1: L, x2: W - R, y1: py(opts.target), y2: py(opts.target) }),
      s("text", { x: W - R - 4, y: py(opts.target) - 4, "text-anchor": "end" }, "target " + fmt(opts.target)));
  }
  svg.append(s("polyline", { class: "series", points: points.map((p) => px(p.x).toFixed(1) + "," + py(p.y).toFixed(1)).join(" ") }));
  return svg;
}
