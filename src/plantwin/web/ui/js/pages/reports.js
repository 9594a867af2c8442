// Shift and day reports of a line or asset, downloaded with the user's token.
import { api, token } from "../api.js";
import { el, show, plantTree } from "../app.js";
import { t } from "../i18n.js";

const scopes = (nodes) => nodes.flatMap((n) => [...(n.kind === "line" || n.kind === "asset" ? [n] : []), ...scopes(n.children)]);

export async function render(view) {
  const tree = await plantTree();
  const scope = el("select", { id: "report-scope" }, scopes(tree.roots).map((n) => el("option", { value: n.id }, `${n.name} (${n.id})`)));
  const day = el("input", { type: "date", id: "report-day", value: new Date().toLocaleDateString("en-CA") }); // today, local
  const shift = el("input", { size: 3, placeholder: "A", "aria-label": "shift" });
  const format = el("select", { id: "report-format" }, ["pdf", "html"].map((f) => el("option", {}, f)));
  const message = el("p", { class: "message", role: "status" });
  const download = async () => {
    message.className = "message";
    const query = new URLSearchParams({ scope: scope.value, day: day.value, format: format.value });
    if (shift.value) query.set("shift", shift.value);
    const response = await fetch(`/api/v1/reports?${query}`, { headers: { Authorization: `Bearer ${token()}` } });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      message.className = "message error";
      message.textContent = `${response.status}: ${body.error ? body.error.message : response.statusText}`;
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: `report-${scope.value}-${day.value}.${format.value}` }, t("download"));
    message.replaceChildren(link);
    link.click();
  };
  await api("/auth/me"); // a lost session goes back to the login page before the form shows
  show(view, el("h1", {}, t("reports")),
    el("div", { class: "row" }, t("scope"), scope, t("day"), day, "shift", shift, t("format"), format,
      el("button", { type: "button", class: "primary", id: "report-download", onclick: download }, t("download"))), message);
}
