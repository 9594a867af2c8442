// What-if: run a scenario file on the simulator of the running plant's line and compare.
import { api } from "../api.js";
import { el, show } from "../app.js";
import { num, t } from "../i18n.js";

// examples/scenarios/double-bottleneck.yaml, shortened so that it answers in seconds.
const EXAMPLE = `line: L1
demo_settings: true
horizon: 7 d
warmup: 1 d
replications: 4
seed: 1
kpis: [throughput_per_h, oee, wip, lead_time_min, utilisation, bottleneck]
scenarios:
  baseline: {}
  second mill:
    stations:
      mill1: {machines: 2}
  bigger buffers:
    buffers: {mill1: 16, lathe1: 16}
`;

function resultTable(result) {
  const names = result.scenarios.map((s) => s.name);
  return el("div", { class: "table-wrap" }, el("table", { id: "whatif-table" },
    el("thead", {}, el("tr", {}, el("th", {}, "KPI"), names.map((n) => el("th", { class: "num" }, n)))),
    el("tbody", {}, result.table.map((row) => el("tr", {}, el("td", {}, row.kpi),
      row.cells.map((c) => el("td", { class: "num" }, typeof c === "number" ? num(c) : String(c))))))));
}

export async function render(view) {
  const text = el("textarea", { rows: 16, cols: 60, id: "scenario", spellcheck: "false", style: "width:100%" });
  text.value = EXAMPLE;
  const status = el("p", { class: "message", role: "status", id: "whatif-status" });
  const out = el("div", { id: "whatif-result" });
  const run = async () => {
    status.className = "message";
    out.replaceChildren();
    try {
      let sim = await api("/simulations", { method: "POST", body: { scenario: text.value } });
      while (sim.status === "running") {
        status.textContent = `${t("status")}: ${sim.status} ${sim.progress.done ?? ""}/${sim.progress.total ?? ""}`;
        await new Promise((r) => setTimeout(r, 1000));
        sim = await api(`/simulations/${sim.id}`);
      }
      status.textContent = `${t("status")}: ${sim.status}${sim.error ? ` (${sim.error})` : ""}`;
      if (sim.result) out.replaceChildren(resultTable(sim.result));
    } catch (error) {
      status.className = "message error";
      status.textContent = `${t("refused")}: ${error.message}`;
    }
  };
  show(view, el("h1", {}, t("whatif")), el("label", { for: "scenario" }, t("scenario")), text,
    el("p", {}, el("button", { type: "button", class: "primary", id: "run-whatif", onclick: run }, t("run"))),
    status, out);
}
