// Campaigns: create from a CSV (the upload's bad lines shown), start/pause/resume/cancel, progress.
import { api, el, problemText, rows, toast } from "./common.js";

const form = document.getElementById("create");
const report = document.getElementById("upload-report");
const tbody = document.querySelector("#campaigns tbody");
const ACTIONS = { draft: ["start", "cancel"], running: ["pause", "cancel"], paused: ["resume", "cancel"] };
const STATUS_ORDER = ["completed", "busy", "no-answer", "failed", "machine", "dnc", "cancelled"];

async function loadFlows() {
  try {
    const flows = await api("/v1/flows");
    document.getElementById("c-flow").replaceChildren(...flows.map((f) => el("option", { value: f.name }, f.name)));
  } catch (error) {
    toast(`Flows could not be listed: ${problemText(error)}`, "error");
  }
}

function showReport(upload) {
  const items = upload.errors.map((e) => el("li", {}, `line ${e.line}: ${e.error}`));
  report.replaceChildren(
    el("h3", {}, "Upload"),
    el("p", {}, `${upload.accepted} contacts accepted, ${upload.rejected} rejected.`),
    items.length ? el("ul", { class: "bad-lines", "aria-label": "Rejected lines" }, items) : "",
    upload.errors_truncated ? el("p", { class: "muted" }, "Only the first rejected lines are listed.") : "",
  );
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const policy = {};
  if (data.get("cps")) policy.cps = Number(data.get("cps"));
  if (data.get("max_concurrent")) policy.max_concurrent = Number(data.get("max_concurrent"));
  try {
    const campaign = await api("/v1/campaigns", {
      method: "POST",
      body: { name: data.get("name"), flow: data.get("flow"), provider: data.get("provider"), account: data.get("account"), policy },
    });
    const file = data.get("csv");
    const upload = await api(`/v1/campaigns/${campaign.campaign_id}/contacts`, {
      method: "POST", body: file, headers: { "Content-Type": "text/csv" },
    });
    showReport(upload);
    if (data.get("start") && upload.accepted > 0) {
      await api(`/v1/campaigns/${campaign.campaign_id}/start`, { method: "POST" });
    }
    toast(`Campaign ${campaign.name} created.`);
    await refresh();
  } catch (error) {
    report.replaceChildren(el("p", { class: "error", role: "alert" }, problemText(error)));
  }
});

function bar(progress) {
  const total = progress.contacts || 0;
  const done = progress.by_state.done || 0;
  const finals = progress.by_final_status;
  const keys = [...STATUS_ORDER.filter((k) => k in finals), ...Object.keys(finals).filter((k) => !STATUS_ORDER.includes(k))];
  return el("div", { class: "progress" },
    el("progress", { max: Math.max(total, 1), value: done, "aria-label": `${done} of ${total} contacts done` }),
    el("span", {}, ` ${done} / ${total} done`),
    el("ul", { class: "statuses" }, keys.map((k) => el("li", { "data-status": k },
      el("meter", { min: 0, max: Math.max(total, 1), value: finals[k], "aria-label": `${k}: ${finals[k]}` }),
      ` ${k} ${finals[k]}`))),
    progress.eta_s ? el("span", { class: "muted" }, `ETA ${Math.round(progress.eta_s)} s`) : "",
  );
}

async function act(campaign, action) {
  try {
    await api(`/v1/campaigns/${campaign.campaign_id}/${action}`, { method: "POST" });
    toast(`${campaign.name}: ${action}`);
  } catch (error) {
    toast(problemText(error), "error");
  }
  await refresh();
}

// A finished campaign's progress no longer changes: it is read once, not on every refresh (each
// request counts against the key's requests per minute).
const FINAL = new Set(["completed", "cancelled"]);
const finished = new Map();

async function progressOf(campaign) {
  if (finished.has(campaign.campaign_id)) return finished.get(campaign.campaign_id);
  const progress = await api(`/v1/campaigns/${campaign.campaign_id}/progress`);
  if (FINAL.has(progress.status)) finished.set(campaign.campaign_id, progress);
  return progress;
}

async function row(campaign) {
  const progress = await progressOf(campaign);
  const p = progress.pacing;
  return el("tr", { "data-campaign": campaign.campaign_id, "data-status": progress.status },
    el("th", { scope: "row" }, campaign.name, el("br"), el("code", { class: "muted" }, campaign.campaign_id), el("br"),
      el("span", { class: "muted" }, `${campaign.flow} on ${campaign.provider}/${campaign.account}`)),
    el("td", { class: "state" }, progress.status),
    el("td", {}, bar(progress)),
    el("td", {}, `${p.attempts_last_minute} calls in the last minute (cap ${p.cps} /s = ${Math.round(p.cps * 60)} /min)`),
    el("td", {}, el("meter", { min: 0, max: p.max_concurrent || Math.max(p.live_calls, 1), value: p.live_calls,
      "aria-label": "live calls against the cap" }), ` ${p.live_calls} live / ${p.max_concurrent ?? "no cap"}`),
    el("td", {}, (ACTIONS[progress.status] || []).map((action) =>
      el("button", { type: "button", onclick: () => act(campaign, action), "aria-label": `${action} ${campaign.name}` }, action))),
  );
}

let busy = false;
let shown = "";
async function refresh() {
  if (busy) return;
  busy = true;
  try {
    const campaigns = await api("/v1/campaigns?limit=50");
    const rendered = await Promise.all(campaigns.map(row));
    const key = rendered.map((r) => r.outerHTML).join("");
    if (key !== shown) { // rebuilt only when something changed, the focused control kept
      shown = key;
      const focused = document.activeElement?.getAttribute("aria-label");
      rows(tbody, rendered, (r) => r);
      if (focused) tbody.querySelector(`[aria-label="${CSS.escape(focused)}"]`)?.focus();
    }
    document.getElementById("no-campaigns").hidden = campaigns.length > 0;
  } catch (error) {
    toast(problemText(error), "error");
  } finally {
    busy = false;
  }
}

await loadFlows();
await refresh();
setInterval(refresh, 2000);
