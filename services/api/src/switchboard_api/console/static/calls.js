// Calls: CDRs with filters and keyset pages (/v1/calls), CSV and NDJSON downloads of the same filter.
import { api, callLink, el, formQuery, money, problemText, rows, toast, utc } from "./common.js";

const form = document.getElementById("filters");
const tbody = document.querySelector("#cdrs tbody");
const info = document.getElementById("page-info");
let cursors = [];
let next = null;

async function load(cursor) {
  const query = formQuery(form);
  document.getElementById("csv").href = `/v1/calls.csv?${query}`;
  document.getElementById("ndjson").href = `/v1/calls.ndjson?${query}`;
  query.set("limit", "25");
  if (cursor) query.set("cursor", cursor);
  try {
    const page = await api(`/v1/calls?${query}`);
    rows(tbody, page.calls, (c) => el("tr", {},
      el("td", {}, utc(c.call_start)), el("td", {}, c.direction), el("td", {}, c.caller_number ?? ""),
      el("td", {}, c.destination_number ?? ""), el("td", {}, c.flow_id ?? ""), el("td", {}, c.status),
      el("td", {}, c.hangup_cause ?? ""), el("td", { class: "n" }, c.duration_s ?? ""),
      el("td", {}, c.cost != null ? `${c.currency} ${c.cost}` : money(null)),
      el("td", {}, callLink(c.call_id || c.call_key))));
    next = page.next_cursor;
    document.getElementById("next").disabled = !next;
    info.textContent = `Page ${cursors.length + 1}: ${page.calls.length} calls`;
  } catch (error) {
    toast(problemText(error), "error");
  }
}

form.addEventListener("submit", (event) => { event.preventDefault(); cursors = []; load(null); });
document.getElementById("first").addEventListener("click", () => { cursors = []; load(null); });
document.getElementById("next").addEventListener("click", () => { if (next) { cursors.push(next); load(next); } });
load(null);
