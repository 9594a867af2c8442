// One asset: state, live signals, a live trend with history on demand, health and RUL,
// active alarms and the command panel.
import { api } from "../api.js";
import { confirmDialog, el, show } from "../app.js";
import { num, t, when } from "../i18n.js";
import { watch } from "../live.js";
import { alarmTable } from "./alarms.js";
import { applyLive, setValue, stateBadge } from "./overview.js";

const MAX_POINTS = 5000;
const HEALTHY = /(^|_)health$|^rul|_rul$/;

function trend(box, signal) {
  const data = [[], []];
  const chart = new uPlot({
    width: Math.max(280, box.clientWidth - 16), height: 260,
    scales: { x: { time: true } },
    series: [{}, { label: `${signal.name} (${signal.unit})`, stroke: "#1d63ed", width: 1.5 }],
    cursor: { drag: { x: true, y: false } },
  }, data, box);
  const add = (ts_s, value) => {
    // Follow the newest point only while it is in view: a zoomed or panned view stays put.
    const newest = data[0][data[0].length - 1];
    const follow = newest === undefined || chart.scales.x.max == null || chart.scales.x.max >= newest;
    data[0].push(ts_s); data[1].push(value);
    if (data[0].length > MAX_POINTS) { data[0].shift(); data[1].shift(); }
    chart.setData(data, false);
    if (follow) chart.setScale("x", { min: data[0][0], max: ts_s });
  };
  const prepend = (times, values) => {
    const first = data[0].length ? data[0][0] : Infinity;
    const keep = times.map((ts, i) => [ts, values[i]]).filter(([ts]) => ts < first);
    data[0].unshift(...keep.map((p) => p[0])); data[1].unshift(...keep.map((p) => p[1]));
    chart.setData(data);
  };
  new ResizeObserver(() => chart.setSize({ width: Math.max(280, box.clientWidth - 16), height: 260 })).observe(box);
  // Pan by half the visible window; drag zooms, double-click shows everything again.
  const pan = (direction) => {
    const { min, max } = chart.scales.x;
    const step = ((max - min) / 2) * direction;
    chart.setScale("x", { min: min + step, max: max + step });
  };
  return { add, prepend, pan, chart };
}

function commandPanel(detail) {
  const message = el("p", { class: "message", role: "status", id: "command-message" });
  const forms = detail.commands.map((command) => {
    const inputs = command.params.map((p) => el("label", {}, `${p.name} (${p.unit || ""}) `,
      p.choices ? el("select", { name: p.name }, p.choices.map((c) => el("option", {}, c)))
        : el("input", { name: p.name, type: p.type === "float" || p.type === "int" ? "number" : "text",
          min: p.min, max: p.max, step: "any", value: p.min ?? "", required: true })));
    const form = el("form", { class: "card", "data-command": command.name },
      el("h3", {}, command.name), el("p", { class: "note" }, command.description),
      el("div", { class: "row" }, inputs), el("button", { class: "primary", type: "submit" }, t("send")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const parameters = {};
      for (const p of command.params) {
        const raw = form.elements[p.name].value;
        parameters[p.name] = p.type === "float" || p.type === "int" ? Number(raw) : raw;
      }
      const body = { twin: detail.id, command: command.name, parameters };
      const ok = await confirmDialog(t("confirm_command"), `${detail.id}\n${command.name}\n${JSON.stringify(parameters, null, 1)}`);
      if (!ok) return;
      message.className = "message";
      try {
        const out = await api("/commands", { method: "POST", body });
        message.textContent = `${t("result")}: ${out.status}${out.message ? ` (${out.message})` : ""}`;
      } catch (error) {
        message.className = "message error";
        message.textContent = `${t("refused")}: ${error.message}`;
      }
    });
    return form;
  });
  return el("section", {}, el("h2", {}, t("commands")), el("div", { class: "grid" }, forms), message);
}

export async function render(view, [id]) {
  const detail = await api(`/twins/${encodeURIComponent(id)}`);
  const numeric = detail.signals.filter((s) => s.name !== "state");
  const health = numeric.filter((s) => HEALTHY.test(s.name));
  const signals = el("dl", { class: "signals" }, numeric.flatMap((s) => {
    const dd = el("dd", { "data-key": s.key, "data-unit": s.unit });
    setValue(dd, s.value);
    return [el("dt", {}, el("label", {}, el("input", { type: "radio", name: "trend", value: s.key }), " ", s.name)), dd];
  }));
  const chartBox = el("div", { class: "chart", id: "trend" });
  const every = el("select", { "aria-label": t("bucket") }, ["10s", "1m", "10m", "1h"].map((b) => el("option", {}, b)));
  const span = el("select", { "aria-label": t("from") }, ["-1h", "-8h", "-24h", "-7d"].map((b) => el("option", {}, b)));
  const historyNote = el("span", { class: "note" });
  const alarmsBox = el("div", { id: "asset-alarms" });
  let chart = null;
  let current = null;
  const choose = (key) => {
    current = numeric.find((s) => s.key === key) || numeric[0];
    if (!current) return;
    chartBox.replaceChildren();
    chart = trend(chartBox, current);
    if (current.value !== null && current.time) chart.add(Date.parse(current.time) / 1000, current.value);
    signals.querySelector(`input[value="${CSS.escape(current.key)}"]`).checked = true;
  };
  const loadHistory = async () => {
    const out = await api(`/twins/${encodeURIComponent(detail.id)}/history?signal=${encodeURIComponent(current.name)}&start=${span.value}&every=${every.value}&limit=100000`);
    const times = out.time.map((s) => Date.parse(s) / 1000);
    const values = out.mean || out.value || [];
    chart.prepend(times, values);
    historyNote.textContent = `${times.length} ${t("rows")}`;
  };
  const loadAlarms = async () => {
    const out = await api("/alarms");
    const mine = out.alarms.filter((a) => a.twin === detail.id || a.twin.startsWith(`${detail.id}.`));
    alarmsBox.replaceChildren(alarmTable(mine, { onChange: loadAlarms, compact: true }));
  };
  signals.addEventListener("change", (event) => {
    choose(event.target.value);
    loadHistory().catch((e) => { historyNote.textContent = e.message; });
  });
  show(view, 
    el("h1", {}, `${detail.name} `, stateBadge(detail.state)),
    el("p", { class: "note" }, `${detail.id} · ${detail.type || detail.kind} · ${when(detail.state && detail.state.since)}`),
    el("div", { class: "two" },
      el("section", {}, el("h2", {}, t("trend")), chartBox,
        el("div", { class: "row" },
          el("button", { type: "button", "aria-label": "pan left", onclick: () => chart.pan(-1) }, "◀"),
          el("button", { type: "button", "aria-label": "pan right", onclick: () => chart.pan(1) }, "▶"),
          t("history"), span, every,
          el("button", { type: "button", id: "load-history", onclick: () => loadHistory().catch((e) => { historyNote.textContent = e.message; }) }, t("load_history")), historyNote)),
      el("section", {}, el("h2", {}, t("signals")), el("div", { class: "card" }, signals))),
    health.length ? el("section", {}, el("h2", {}, `${t("health")} / ${t("rul")}`),
      el("dl", { class: "signals card", id: "health" }, health.flatMap((s) => {
        const dd = el("dd", { "data-key": s.key, "data-unit": s.unit });
        setValue(dd, s.value);
        return [el("dt", {}, s.name), dd];
      }))) : null,
    el("h2", {}, t("active_alarms")), alarmsBox,
    detail.commands.length ? commandPanel(detail) : null,
    detail.children.length ? el("p", {}, `${t("children")}: `, detail.children.map((c) => [el("a", { href: `#/asset/${c}` }, c), " "])) : null);
  const first = numeric.find((s) => s.name === "power") || numeric[0];
  choose(first && first.key);
  if (current) await loadHistory().catch((e) => { historyNote.textContent = e.message; });
  await loadAlarms();
  watch({ twins: [detail.id] }, (message) => {
    applyLive(view, message, () => refreshAssetState(detail.id, view));
    const samples = message.type === "frame" ? message.samples : null;
    const point = samples && current && samples[current.key];
    if (point && chart) chart.add(point[0] / 1000, point[1]);
    if (message.type === "frame" && message.alarms && message.alarms.length) loadAlarms();
  });
}

async function refreshAssetState(id, view) {
  const detail = await api(`/twins/${encodeURIComponent(id)}`);
  const badge = view.querySelector("[data-role=state]");
  if (badge) badge.replaceWith(stateBadge(detail.state));
}
