// Read-only SQL over the store's views (docs/query.md): a table, a chart, CSV/Parquet files.
import { api, token } from "../api.js";
import { el, show } from "../app.js";
import { t } from "../i18n.js";

export async function render(view) {
  const sql = el("textarea", { rows: 5, style: "width:100%", id: "sql", spellcheck: "false" });
  sql.value = "SELECT twin, state, since FROM live_states ORDER BY twin";
  const out = el("div", { id: "sql-result" });
  const failed = (error) => out.replaceChildren(el("p", { class: "error" }, error.message));
  const run = async () => {
    try {
      const result = await api("/query", { method: "POST", body: { sql: sql.value, max_rows: 1000 } });
      out.replaceChildren(el("p", { class: "note" }, `${result.row_count} ${t("rows")}${result.truncated ? " (truncated)" : ""}, ${result.elapsed_ms.toFixed(0)} ms`),
        el("div", { class: "table-wrap" }, el("table", {},
          el("thead", {}, el("tr", {}, result.columns.map((c) => el("th", {}, c.name)))),
          el("tbody", {}, result.rows.map((r) => el("tr", {}, r.map((v) => el("td", {}, v === null ? "" : String(v)))))))));
    } catch (error) { failed(error); }
  };
  // The server draws the chart (first column: labels, numeric columns: bars), as for reports.
  const chart = async () => {
    try {
      const svg = await api("/query?format=svg", { method: "POST", body: { sql: sql.value, max_rows: 1000 } });
      const box = el("div", { id: "sql-chart", class: "chart" });
      box.innerHTML = svg; // an SVG the API rendered from the query's values (escaped there)
      out.replaceChildren(box);
    } catch (error) { failed(error); }
  };
  const download = (format) => async () => {
    const response = await fetch(`/api/v1/query?format=${format}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token()}`, "Content-Type": "application/json" },
      body: JSON.stringify({ sql: sql.value }),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      failed(new Error(`${response.status}: ${body.error ? body.error.message : response.statusText}`));
      return;
    }
    const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `query.${format}` }, `query.${format}`);
    out.replaceChildren(el("p", {}, link));
    link.click();
  };
  const button = (label, onclick, id) => el("button", { type: "button", id, onclick }, label);
  show(view, el("h1", {}, t("query")), sql,
    el("p", { class: "row" },
      el("button", { type: "button", class: "primary", onclick: run }, t("run")),
      button(t("chart"), chart, "sql-chart-button"),
      button("CSV", download("csv"), "sql-csv"), button("Parquet", download("parquet"), "sql-parquet")),
    out);
  await run();
}
