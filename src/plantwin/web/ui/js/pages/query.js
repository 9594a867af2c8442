// Read-only SQL over the store's views (docs/query.md).
import { api } from "../api.js";
import { el, show } from "../app.js";
import { t } from "../i18n.js";

export async function render(view) {
  const sql = el("textarea", { rows: 5, style: "width:100%", id: "sql", spellcheck: "false" });
  sql.value = "SELECT twin, state, since FROM live_states ORDER BY twin";
  const out = el("div", { id: "sql-result" });
  const run = async () => {
    try {
      const result = await api("/query", { method: "POST", body: { sql: sql.value, max_rows: 1000 } });
      out.replaceChildren(el("p", { class: "note" }, `${result.row_count} ${t("rows")}${result.truncated ? " (truncated)" : ""}, ${result.elapsed_ms.toFixed(0)} ms`),
        el("div", { class: "table-wrap" }, el("table", {},
          el("thead", {}, el("tr", {}, result.columns.map((c) => el("th", {}, c.name)))),
          el("tbody", {}, result.rows.map((r) => el("tr", {}, r.map((v) => el("td", {}, v === null ? "" : String(v)))))))));
    } catch (error) {
      out.replaceChildren(el("p", { class: "error" }, error.message));
    }
  };
  show(view, el("h1", {}, t("query")), sql, el("p", {}, el("button", { type: "button", class: "primary", onclick: run }, t("run"))), out);
  await run();
}
