// 2D plant layout: each asset a box at its plant-file position, coloured by its live state.
import { api } from "../api.js";
import { el, show, plantTree } from "../app.js";
import { t } from "../i18n.js";
import { watch } from "../live.js";

const NS = "http://www.w3.org/2000/svg";
const svg = (tag, attrs = {}, text) => {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
};
const COLOURS = { production: "#1a9850", idle: "#f0ad00", setup: "#4575b4", planned: "#4575b4",
  fault: "#d73027", down: "#d73027", unplanned: "#d73027", maintenance: "#7b3294" };
const colour = (state) => COLOURS[state && state.category] || "#9aa0a6";

function find(nodes, id) {
  for (const n of nodes) {
    if (n.id === id) return n;
    const hit = find(n.children, id);
    if (hit) return hit;
  }
  return null;
}

// The scope, its lines and assets, parents before children.
const members = (node) => [node, ...node.children.filter((c) => c.kind !== "component").flatMap(members)];

export async function render(view, [scope]) {
  const tree = await plantTree();
  const node = scope ? find(tree.roots, scope) : tree.roots[0];
  if (!node) throw new Error(`no twin '${scope}'`);
  const all = await Promise.all(members(node).map((a) => api(`/twins/${encodeURIComponent(a.id)}`)));
  // Positions are relative to the parent's (a line's assets sit in the line's frame).
  const origin = new Map();
  for (const d of all) {
    const [px, py] = (d.parent && origin.get(d.parent)) || [0, 0];
    const [x, y] = d.position || [0, 0];
    origin.set(d.id, d.id === node.id ? [0, 0] : [px + x, py + y]);
  }
  const placed = all.filter((d) => d.kind === "asset");
  const unplaced = placed.filter((d) => !d.position);
  const xs = placed.map((d) => origin.get(d.id)[0]);
  const ys = placed.map((d) => origin.get(d.id)[1]);
  const [minX, minY] = [Math.min(...xs) - 1, Math.min(...ys) - 1];
  const [w, h] = [Math.max(...xs) - minX + 4, Math.max(...ys) - minY + 3];
  const drawing = svg("svg", { class: "layout", viewBox: `${minX} ${minY} ${w} ${h}`, id: "layout-svg" });
  for (const d of placed) {
    const [x, y] = origin.get(d.id);
    const group = svg("a", { href: `#/asset/${d.id}` });
    group.append(
      svg("rect", { x, y, width: 3.6, height: 1.6, rx: 0.2, fill: colour(d.state), "data-twin": d.id }),
      svg("text", { x: x + 0.15, y: y + 0.65, textLength: d.name.length > 14 ? 3.3 : undefined, lengthAdjust: "spacingAndGlyphs" }, d.name),
      svg("text", { x: x + 0.15, y: y + 1.35, "data-state-of": d.id }, (d.state && d.state.name) || ""));
    drawing.append(group);
  }
  show(view, el("h1", {}, `${node.name} · ${t("layout")}`), drawing,
    unplaced.length ? el("p", { class: "note" }, `no position in the plant file: ${unplaced.map((d) => d.id).join(", ")}`) : null);
  watch({ twins: [node.id], kinds: ["states"] }, async (message) => {
    for (const record of message.type === "frame" ? message.states || [] : []) {
      const rect = drawing.querySelector(`rect[data-twin="${CSS.escape(record.twin)}"]`);
      if (!rect) continue;
      const detail = await api(`/twins/${encodeURIComponent(record.twin)}`);
      rect.setAttribute("fill", colour(detail.state));
      drawing.querySelector(`[data-state-of="${CSS.escape(record.twin)}"]`).textContent = detail.state ? detail.state.name : "";
    }
  });
}
