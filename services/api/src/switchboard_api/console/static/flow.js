// One flow: edit with validation as you type (POST /v1/flows/validate: problems at their line), and
// call it from the browser on the simulator's interactive phone: prompts spoken (speech synthesis)
// and shown, keys from the keypad.
import { api, el, problemText, rows, toast, utc } from "./common.js";

const name = decodeURIComponent(location.pathname.split("/").pop());
const source = document.getElementById("source");
const gutter = document.getElementById("gutter");
const problems = document.getElementById("problems");
const checkState = document.getElementById("check-state");
const provider = document.getElementById("provider");
let saved = "";
let flow = null;
let draft = null; // the last check's answer: {valid, document} for the text in the editor

function numberLines(bad = new Set()) {
  const count = source.value.split("\n").length;
  gutter.replaceChildren(...Array.from({ length: count }, (_, i) =>
    el("span", { class: bad.has(i + 1) ? "bad" : "" }, `${i + 1}\n`)));
  gutter.scrollTop = source.scrollTop;
}

function goToLine(line) {
  const lines = source.value.split("\n");
  const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  source.focus();
  source.setSelectionRange(start, start + (lines[line - 1] || "").length);
  source.scrollTop = Math.max(0, (line - 3) * parseFloat(getComputedStyle(source).lineHeight));
}

let seq = 0;
async function check() {
  const mine = ++seq;
  try {
    const answer = await api("/v1/flows/validate", { method: "POST", body: { text: source.value, provider: provider.value || null } });
    if (mine !== seq) return; // a newer check is on its way
    draft = answer;
    document.dispatchEvent(new CustomEvent("checked"));
    const errors = answer.problems.filter((p) => p.severity === "error").length;
    const warnings = answer.problems.length - errors;
    checkState.textContent = answer.valid
      ? `Valid: version ${answer.version}${warnings ? `, ${warnings} warning(s)` : ""}${source.value === saved ? " (saved)" : " (draft)"}`
      : `${errors} error(s), ${warnings} warning(s)`;
    checkState.dataset.valid = String(answer.valid);
    problems.replaceChildren(...answer.problems.map((p) => el("li", { "data-severity": p.severity },
      el("button", { type: "button", disabled: p.line == null, onclick: () => goToLine(p.line) },
        p.line != null ? `Line ${p.line}` : "Whole file"),
      ` ${p.severity}: ${p.pointer || "/"}: ${p.message}`)));
    numberLines(new Set(answer.problems.filter((p) => p.severity === "error").map((p) => p.line)));
  } catch (error) {
    checkState.textContent = `Could not check: ${problemText(error)}`;
  }
}

let timer = null;
source.addEventListener("input", () => { numberLines(); clearTimeout(timer); timer = setTimeout(check, 250); });
source.addEventListener("scroll", () => { gutter.scrollTop = source.scrollTop; });
provider.addEventListener("change", check);
document.getElementById("revert").addEventListener("click", () => { source.value = saved; numberLines(); check(); });
document.getElementById("download").addEventListener("click", () => {
  const ext = flow?.file?.split(".").pop() || "yaml";
  const link = el("a", { href: URL.createObjectURL(new Blob([source.value], { type: "text/plain" })), download: `${name}.${ext}` });
  link.click();
  URL.revokeObjectURL(link.href);
});

async function load() {
  try {
    flow = await api(`/v1/flows/${encodeURIComponent(name)}`);
  } catch (error) {
    checkState.textContent = problemText(error);
    return;
  }
  saved = flow.source;
  source.value = saved;
  document.getElementById("flow-meta").textContent =
    `Version ${flow.version} · ${flow.file ?? ""} · ${flow.actions} actions` + (flow.numbers.length ? ` · answers ${flow.numbers.join(", ")}` : "");
  rows(document.querySelector("#versions tbody"), flow.versions, (v) => el("tr", {},
    el("td", {}, el("code", {}, v.version ?? "")), el("td", { class: "n" }, v.calls), el("td", {}, utc(v.first_call)),
    el("td", {}, utc(v.last_call)),
    el("td", {}, el("a", { href: `/console/reports?flow=${encodeURIComponent(name)}&version=${encodeURIComponent(v.version ?? "")}` }, "Funnel"))));
  numberLines();
  await check();
}

// --- call it -----------------------------------------------------------------------------------
const callButton = document.getElementById("call");
if (callButton) {
  const hangup = document.getElementById("hangup");
  const keypad = document.getElementById("keypad");
  const keys = [...keypad.querySelectorAll("button")];
  const status = document.getElementById("call-status");
  const transcript = document.getElementById("transcript");
  const speak = document.getElementById("speak");
  let phone = null;
  let heard = 0;
  let poller = null;

  const inCall = (on) => {
    keys.forEach((k) => { k.disabled = !on; });
    hangup.disabled = !on;
    callButton.disabled = on || (source.value !== saved && !draft?.valid);
  };

  const say = (text) => {
    if (!speak.checked || !("speechSynthesis" in window)) return;
    window.speechSynthesis.speak(new SpeechSynthesisUtterance(text));
  };

  const line = (entry) => {
    if (entry.kind === "say") { say(entry.text); return el("li", { "data-kind": "say" }, `Says: ${entry.text}`); }
    if (entry.kind === "play") return el("li", { "data-kind": "play" }, `Plays ${entry.url}`);
    if (entry.kind === "digits") return el("li", { "data-kind": "digits" }, `You pressed ${entry.digits}`);
    if (entry.kind === "no-input") return el("li", { "data-kind": "no-input" }, "(no key pressed in time)");
    return el("li", { "data-kind": entry.kind }, `${entry.kind}${entry.url ? ` ${entry.url}` : ""}${entry.numbers ? ` ${entry.numbers.join(", ")}` : ""}`);
  };

  async function poll() {
    try {
      const { call } = await api(`/console/try/phones/${encodeURIComponent(phone.number)}`);
      if (!call) return;
      for (const entry of call.transcript.slice(heard)) transcript.append(line(entry));
      heard = call.transcript.length;
      if (call.state === "ended") {
        status.textContent = `Call ended: ${call.hangup_cause} after ${call.duration_s} s.`;
        transcript.append(el("li", { "data-kind": "ended" }, `Call ended (${call.hangup_cause})`));
        clearInterval(poller);
        inCall(false);
      } else {
        status.textContent = `In a call (${call.state}) from ${call.destination_number} to ${phone.number}.`;
      }
    } catch (error) {
      status.textContent = problemText(error);
    }
  }

  async function press(key) {
    if (!phone || hangup.disabled) return;
    try {
      await api(`/console/try/phones/${encodeURIComponent(phone.number)}/keys`, { method: "POST", body: { digits: key } });
      window.speechSynthesis?.cancel();
    } catch (error) {
      toast(problemText(error), "error");
    }
  }

  callButton.addEventListener("click", async () => {
    transcript.replaceChildren();
    heard = 0;
    try {
      phone = await api("/console/try/phones", { method: "POST" });
      const body = { to: phone.number, flow: name, provider: phone.provider, account: phone.account };
      if (source.value !== saved) body.flow_document = draft.document; // the draft, as checked
      const placed = await api("/v1/calls", { method: "POST", body });
      status.textContent = `Calling ${phone.number} (call ${placed.call_id})…`;
      inCall(true);
      keypad.focus();
      poller = setInterval(poll, 400);
    } catch (error) {
      status.textContent = `The call could not be placed: ${problemText(error)}`;
      inCall(false);
    }
  });
  hangup.addEventListener("click", async () => {
    window.speechSynthesis?.cancel();
    await api(`/console/try/phones/${encodeURIComponent(phone.number)}/hangup`, { method: "POST" }).catch(() => {});
  });
  // what the button calls: the saved flow, the draft when it differs and is valid, nothing else
  document.addEventListener("checked", () => {
    const edited = source.value !== saved;
    callButton.textContent = edited ? "Call this draft" : "Call this flow";
    if (hangup.disabled) callButton.disabled = edited && !draft?.valid;
  });
  keys.forEach((k) => k.addEventListener("click", () => press(k.dataset.key)));
  keypad.addEventListener("keydown", (event) => {
    if (/^[0-9*#]$/.test(event.key)) { event.preventDefault(); press(event.key); }
  });
}

await load();
