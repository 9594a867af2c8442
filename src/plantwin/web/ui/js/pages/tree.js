// The plant tree: every twin, its state colour, links to its overview, asset page and layout.
import { el, show, plantTree } from "../app.js";
import { t } from "../i18n.js";

function node(twin) {
  const cat = twin.category || "unknown";
  const link = twin.kind === "asset" || twin.kind === "component" ? `#/asset/${twin.id}` : `#/overview/${twin.id}`;
  return el("li", {},
    el("span", { class: `badge cat-${cat}` }, twin.state || twin.kind), " ",
    el("a", { href: link }, twin.name), " ",
    el("small", { class: "note" }, twin.id),
    twin.kind === "site" || twin.kind === "line" ? [" · ", el("a", { href: `#/layout/${twin.id}` }, t("layout"))] : null,
    twin.children.length ? el("ul", { class: "tree" }, twin.children.map(node)) : null);
}

export async function render(view) {
  const tree = await plantTree();
  show(view, 
    el("h1", {}, tree.plant),
    el("p", { class: "note" }, `${tree.twins} twins, ${tree.signals} signals`),
    el("ul", { class: "tree", id: "plant-tree" }, tree.roots.map(node)));
}
