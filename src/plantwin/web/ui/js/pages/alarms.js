// Alarm console: alarms not normal, acknowledge and shelve (operator and above).
import { api, me } from "../api.js";
import { el, show } from "../app.js";
import { num, t, when } from "../i18n.js";
import { watch } from "../live.js";

const OPERATORS = new Set(["operator", "engineer", "admin"]);

export function alarmTable(alarms, { onChange, compact = false, message } = {}) {
  const user = me();
  const may = user && OPERATORS.has(user.role);
  if (!alarms.length) return el("p", { class: "note", id: "no-alarms" }, t("no_alarms"));
  message = message || el("p", { class: "message", role: "status" });
  const act = async (alarm, action, body) => {
    message.className = "message";
    message.textContent = "";
    try {
      const out = await api(`/alarms/${encodeURIComponent(alarm.id)}/${action}`, { method: "POST", body });
      message.textContent = `${alarm.id}: ${out.state}`;
      if (onChange) onChange();
    } catch (error) {
      message.className = "message error";
      message.textContent = `${t("refused")}: ${error.message}`;
    }
  };
  const row = (a) => {
    const reason = el("input", { placeholder: t("reason"), size: 10, "aria-label": t("reason") });
    const duration = el("select", { "aria-label": t("duration") },
      ["30m", "1h", "2h", "8h"].map((d) => el("option", { value: d }, d)));
    const shelved = a.state === "shelved";
    return el("tr", { "data-alarm": a.id, "data-state": a.state },
      el("td", { class: `prio-${a.priority}` }, a.priority),
      el("td", {}, el("a", { href: `#/asset/${a.twin}` }, a.id), el("br"), el("small", {}, a.message)),
      el("td", { "data-role": "alarm-state" }, a.state),
      compact ? null : el("td", { class: "num" }, num(a.value, a.unit)),
      compact ? null : el("td", {}, when(a.since)),
      el("td", {},
        el("button", { type: "button", "data-action": "ack", disabled: !may || a.acknowledged,
          onclick: () => act(a, "ack", { reason: reason.value }) }, t("ack")), " ",
        compact ? null : [reason, " ", duration, " ",
          el("button", { type: "button", "data-action": shelved ? "unshelve" : "shelve", disabled: !may,
            onclick: () => act(a, shelved ? "unshelve" : "shelve",
              shelved ? { reason: reason.value } : { reason: reason.value, duration: duration.value }) },
          shelved ? t("unshelve") : t("shelve"))]));
  };
  return el("div", {},
    el("div", { class: "table-wrap" }, el("table", { id: "alarm-table", class: "stack" },
      el("thead", {}, el("tr", {}, el("th", {}, t("priority")), el("th", {}, t("alarm")), el("th", {}, t("state")),
        compact ? null : el("th", { class: "num" }, t("value")), compact ? null : el("th", {}, t("since")),
        el("th", {}, t("actions")))),
      el("tbody", {}, alarms.map(row)))),
    may ? null : el("p", { class: "note" }, t("viewer_note")));
}

export async function render(view) {
  const box = el("div", { id: "alarms" });
  const message = el("p", { class: "message", role: "status", id: "alarm-message" });
  const load = async () => {
    const out = await api("/alarms");
    box.replaceChildren(alarmTable(out.alarms, { onChange: load, message }));
  };
  show(view, el("h1", {}, t("alarms")), box, message);
  await load();
  watch({ kinds: ["alarms"] }, (message) => {
    if (message.type === "frame" && message.alarms && message.alarms.length) load();
  });
}
