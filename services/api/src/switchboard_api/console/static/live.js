// Live page: one server-sent event stream (/console/live/events), a snapshot a second.
import { callLink, duration, el, rows } from "./common.js";

const state = document.getElementById("stream-state");
const tbody = document.querySelector("#calls tbody");
let last = null;

function render(snap) {
  last = snap;
  if (snap.error) {
    state.textContent = `Live data unavailable: ${snap.error}`;
    return;
  }
  state.textContent = `Updated ${new Date(snap.at_ms).toLocaleTimeString()}`;
  document.getElementById("live-calls").textContent = snap.live_calls;
  document.getElementById("cps-10").textContent = snap.cps_10s.toFixed(2);
  document.getElementById("cps-60").textContent = snap.cps_60s.toFixed(2);
  document.getElementById("fallbacks").textContent = snap.fallbacks_5m;
  document.getElementById("fallback-minutes").textContent =
    snap.fallbacks_per_minute.join(" · ") + " (oldest to newest, last 15 minutes)";
  rows(document.querySelector("#queues tbody"), Object.entries(snap.queues),
    ([name, n]) => el("tr", {}, el("td", {}, name), el("td", { class: "n" }, n)));
  if (!Object.keys(snap.queues).length) {
    document.querySelector("#queues tbody").append(el("tr", {}, el("td", { colspan: 2, class: "muted" }, "No callers waiting.")));
  }
  rows(document.querySelector("#lag tbody"), Object.entries(snap.lag),
    ([group, lag]) => el("tr", {}, el("td", {}, group), el("td", { class: "n" }, lag === null ? "unreadable" : lag)));
  tick();
}

let shown = "";
function tick() {
  if (!last || last.error) return;
  const now = Date.now();
  const key = JSON.stringify(last.calls.map((c) => [c.call_key, c.action, c.pointer, c.waiting, c.status]));
  if (key !== shown) { // rows are rebuilt only when a call changed: focus stays where the user put it
    shown = key;
    rows(tbody, last.calls, (c) => el("tr", { "data-call-key": c.call_key, "data-started": c.started_ms },
      el("td", {}, c.number),
      el("td", {}, c.direction),
      el("td", {}, c.flow ?? ""),
      el("td", {}, c.action ? `${c.action} (${c.pointer})` : "—"),
      el("td", {}, c.waiting ?? (c.status === "active" ? "—" : c.status)),
      el("td", { class: "n duration" }, ""),
      el("td", {}, `${c.provider} / ${c.account}`),
      el("td", {}, callLink(c.call_id || c.call_key, c.call_key)),
    ));
  }
  for (const tr of tbody.rows) {
    tr.querySelector(".duration").textContent = duration((now - Number(tr.dataset.started)) / 1000);
  }
  document.getElementById("no-calls").hidden = last.calls.length > 0;
}

const source = new EventSource("/console/live/events");
source.addEventListener("live", (event) => render(JSON.parse(event.data)));
source.addEventListener("open", () => { state.textContent = "Connected."; });
source.addEventListener("error", () => { state.textContent = "Disconnected; reconnecting…"; });
setInterval(tick, 1000);
