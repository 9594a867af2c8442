// Site or line overview: a tile per machine with its state colour, OEE and live values.
import { api } from "../api.js";
import { el, show, plantTree } from "../app.js";
import { num, pct, t } from "../i18n.js";
import { watch } from "../live.js";

function find(nodes, id) {
  for (const n of nodes) {
    if (n.id === id) return n;
    const hit = find(n.children, id);
    if (hit) return hit;
  }
  return null;
}

function assets(node) {
  return node.children.flatMap((c) => (c.kind === "asset" ? [c] : c.kind === "line" ? assets(c) : []));
}

function firstLine(nodes) {
  for (const n of nodes) {
    if (n.kind === "line") return n;
    const hit = firstLine(n.children);
    if (hit) return hit;
  }
  return nodes[0];
}

async function kpis(id) {
  try {
    const out = await api(`/kpis?scope=${encodeURIComponent(id)}&start=-8h`);
    return out.periods.length ? out.periods[out.periods.length - 1].values : null;
  } catch (error) {
    if (error.status === 404) return null; // a twin without KPI settings
    throw error;
  }
}

function kpiBlock(values) {
  if (!values) return el("p", { class: "note" }, t("no_kpis"));
  const cell = (label, v) => el("div", {}, el("b", {}, pct(v)), el("small", {}, label));
  return el("div", { class: "kpis" }, cell(t("oee"), values.oee), cell(t("availability"), values.availability),
    cell(t("performance"), values.effectiveness), cell(t("quality"), values.quality));
}

export function stateBadge(state) {
  const cat = (state && state.category) || "unknown";
  return el("span", { class: `badge cat-${cat}`, "data-role": "state" }, (state && state.name) || t("nothing"));
}

export function setValue(dd, value) {
  dd.textContent = num(value, dd.dataset.unit);
  dd.dataset.value = value === null ? "" : String(value);
}

function tile(detail, values) {
  const cat = (detail.state && detail.state.category) || "unknown";
  const signals = detail.signals.filter((s) => s.name !== "state");
  return el("section", { class: `card cat-${cat}`, id: `tile-${detail.id}`, "data-twin": detail.id },
    el("h3", {}, el("a", { href: `#/asset/${detail.id}` }, detail.name), " ", stateBadge(detail.state)),
    kpiBlock(values),
    el("dl", { class: "signals" }, signals.flatMap((s) => {
      const dd = el("dd", { "data-key": s.key, "data-unit": s.unit });
      setValue(dd, s.value);
      return [el("dt", { title: s.key }, s.name), dd];
    })));
}

export async function refreshState(id) {
  const detail = await api(`/twins/${encodeURIComponent(id)}`);
  const card = document.getElementById(`tile-${id}`);
  if (!card) return;
  const cat = (detail.state && detail.state.category) || "unknown";
  card.className = `card cat-${cat}`;
  card.querySelector("[data-role=state]").replaceWith(stateBadge(detail.state));
}

export function applyLive(root, message, onState) {
  const signals = message.type === "snapshot" ? message.signals : message.samples;
  for (const [key, point] of Object.entries(signals || {})) {
    for (const dd of root.querySelectorAll(`dd[data-key="${CSS.escape(key)}"]`)) setValue(dd, point[1]);
  }
  for (const record of message.type === "frame" ? message.states || [] : []) onState(record.twin);
}

export async function render(view, [scope]) {
  const tree = await plantTree();
  const node = scope ? find(tree.roots, scope) : firstLine(tree.roots);
  if (!node) throw new Error(`no twin '${scope}'`);
  const members = assets(node);
  const [details, values, own] = await Promise.all([
    Promise.all(members.map((m) => api(`/twins/${encodeURIComponent(m.id)}`))),
    Promise.all(members.map((m) => kpis(m.id))),
    kpis(node.id),
  ]);
  const ownBox = el("div", { class: "card cat-production", id: "scope-kpis" }, kpiBlock(own));
  const scopes = tree.roots.flatMap((r) => [r, ...r.children.filter((c) => c.kind === "line")]);
  const grid = el("div", { class: "grid", id: "tiles" }, details.map((d, i) => tile(d, values[i])));
  show(view, 
    el("h1", {}, `${node.name} · ${t("overview")}`),
    el("p", { class: "row" }, scopes.map((s) => el("a", { href: `#/overview/${s.id}` }, s.name)),
      el("a", { href: `#/layout/${node.id}` }, t("layout"))),
    el("h2", {}, t("kpi_window")), ownBox,
    el("h2", {}, t("signals")), grid);
  watch({ twins: [node.id], kinds: ["samples", "states"] }, (message) =>
    applyLive(grid, message, (twin) => refreshState(twin).catch(() => {})));
  // KPIs are computed on request: ask again every 30 s while the page is shown.
  const timer = setInterval(async () => {
    const [fresh, mine] = await Promise.all([Promise.all(members.map((m) => kpis(m.id))), kpis(node.id)]);
    ownBox.replaceChildren(kpiBlock(mine));
    members.forEach((m, i) => {
      const block = document.querySelector(`#tile-${CSS.escape(m.id)} .kpis, #tile-${CSS.escape(m.id)} p.note`);
      if (block) block.replaceWith(kpiBlock(fresh[i]));
    });
  }, 30_000);
  return () => clearInterval(timer);
}
