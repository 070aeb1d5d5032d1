// One call: its CDR and trace (/v1/calls/{id}); a call still in progress shows its live trail.
import { ApiError, api, el, problemText, rows, utc } from "./common.js";

const id = decodeURIComponent(location.pathname.split("/").pop());
const live = new URLSearchParams(location.search).get("live");
const stateLine = document.getElementById("call-state");
const FIELDS = ["call_key", "call_id", "direction", "caller_number", "destination_number", "provider", "account",
  "flow_id", "flow_version", "campaign_id", "status", "hangup_cause", "call_start", "started_at", "ended_at", "duration_s",
  "cost", "currency", "inputs"];

function detail(entry) {
  if (entry.k === "cb") return `callback ${entry.e}` + (entry.d !== undefined ? ` (keys ${entry.d})` : "");
  if (entry.k === "act") return `action ${entry.a} at ${entry.p}`;
  if (entry.k === "reply") return `reply with ${entry.n} provider action(s)`;
  if (entry.k === "cut") return "trail full: later steps not recorded";
  return JSON.stringify(entry);
}

function show(record, trail) {
  const dl = document.getElementById("cdr");
  dl.replaceChildren(...FIELDS.filter((f) => record[f] !== undefined && record[f] !== null).flatMap((f) => [
    el("dt", {}, f), el("dd", {}, typeof record[f] === "object" ? JSON.stringify(record[f]) : String(record[f])),
  ]));
  const start = trail.find((e) => e.t)?.t ?? 0;
  rows(document.querySelector("#trace tbody"), trail, (e) => el("tr", { "data-kind": e.k },
    el("td", {}, e.t ? utc(e.t) : ""), el("td", { class: "n" }, e.t ? e.t - start : ""),
    el("td", {}, { cb: "callback", act: "action", reply: "reply", cut: "…" }[e.k] ?? e.k), el("td", {}, detail(e))));
}

async function load() {
  try {
    const cdr = await api(`/v1/calls/${encodeURIComponent(id)}`);
    stateLine.textContent = `Ended: ${cdr.status}`;
    show(cdr, cdr.trail || []);
    return true;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404 && live)) {
      stateLine.textContent = problemText(error);
      return true;
    }
  }
  try {
    const call = await api(`/console/live/calls/${encodeURIComponent(live)}`);
    stateLine.textContent = `In progress (${call.waiting ? `waiting for ${call.waiting}` : call.status}); refreshing…`;
    show({ ...call, flow_id: call.flow, collected: undefined, inputs: call.collected }, call.trail || []);
  } catch (error) {
    stateLine.textContent = "Ended; its record is on its way…";
  }
  return false;
}

const timer = setInterval(async () => { if (await load()) clearInterval(timer); }, 2000);
if (await load()) clearInterval(timer);
