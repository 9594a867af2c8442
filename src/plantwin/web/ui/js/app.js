// The shell: hash routes to page modules, the language switch, the user and the live dot.
import { api, me, toLogin, token } from "./api.js";
import { lang, setLang, t } from "./i18n.js";
import { unwatch } from "./live.js";

const PAGES = {
  "": "tree", tree: "tree", overview: "overview", asset: "asset", alarms: "alarms",
  layout: "layout", whatif: "whatif", reports: "reports", query: "query",
};
const NAV = ["tree", "overview", "alarms", "layout", "whatif", "reports", "query"];

export const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined));
  return node;
};

// Fill a page; null children (sections a twin does not have) are left out.
export const show = (view, ...children) =>
  view.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));

// The plant tree is asked once per page view at most; pages share it.
let treeCache = null;
export async function plantTree() {
  treeCache = treeCache || api("/twins");
  return treeCache;
}

export function confirmDialog(title, body) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-body").textContent = body;
  document.getElementById("confirm-ok").textContent = t("confirm");
  document.getElementById("confirm-cancel").textContent = t("cancel");
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
  });
}

function renderNav(page) {
  const nav = document.getElementById("nav");
  nav.replaceChildren(...NAV.map((name) =>
    el("a", { href: `#/${name}`, class: name === page ? "active" : null }, t(name))));
  document.getElementById("logout").textContent = t("logout");
  document.getElementById("live-status").textContent = t("live");
  const user = me();
  document.getElementById("who").textContent = user ? `${user.user} (${user.role})` : "";
}

// Routes run one after another, so a slow page never draws over the one asked for after it.
let routing = Promise.resolve();
const route = () => { routing = routing.then(draw, draw); };

let leave = null; // what the page on show stops when another is drawn (timers)

async function draw() {
  treeCache = null;
  if (leave) leave();
  leave = null;
  const [name = "", ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  const page = PAGES[name] || "tree";
  renderNav(page);
  unwatch();
  const view = document.getElementById("view");
  view.replaceChildren(el("p", { class: "note" }, t("loading")));
  try {
    const module = await import(`./pages/${page}.js`);
    leave = (await module.render(view, rest.map(decodeURIComponent))) || null;
  } catch (error) {
    view.replaceChildren(el("p", { class: "error", role: "alert" }, error.message));
  }
}

if (!token()) toLogin();
else {
  setLang(lang);
  const select = document.getElementById("lang");
  select.value = lang;
  select.addEventListener("change", () => { setLang(select.value); route(); });
  document.getElementById("logout").addEventListener("click", async () => {
    try { await api("/auth/logout", { method: "POST" }); } finally { toLogin(); }
  });
  window.addEventListener("hashchange", route);
  route();
}
