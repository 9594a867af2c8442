// One WebSocket to /api/v1/live for the whole app; each page names what it wants to see.
import { toLogin, token } from "./api.js";

let socket = null;
let selection = null;
let handler = null;
let last = null; // { stream, seq } for resume after a reconnect
const status = () => document.getElementById("live-status");

function send(resume) {
  if (!socket || socket.readyState !== WebSocket.OPEN || !selection) return;
  const message = { subscribe: { ...selection, max_rate_hz: 10 } };
  if (resume && last) Object.assign(message, { resume_from: last.seq, stream: last.stream });
  socket.send(JSON.stringify(message));
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/api/v1/live?token=${encodeURIComponent(token())}`);
  socket.onopen = () => { status().dataset.state = "on"; send(true); };
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "subscribed") last = { stream: message.stream, seq: message.seq };
    if (message.type === "snapshot") last = { stream: message.stream, seq: message.seq };
    if (message.type === "frame" && last) last.seq = message.seq[1];
    if (handler) handler(message);
  };
  socket.onclose = (event) => {
    status().dataset.state = "off";
    if (event.code === 4401) { toLogin(); return; }
    setTimeout(connect, 2000);
  };
}

// Replace the selection: {twins: [...], signals: [...]}; onMessage gets snapshot and frames.
export function watch(next, onMessage) {
  selection = next;
  handler = onMessage;
  last = null;
  if (!socket) connect(); else send(false);
}

export function unwatch() { handler = null; }
