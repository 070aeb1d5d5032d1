// Flows: the tenant's flows (/v1/flows).
import { api, el, problemText, rows, toast } from "./common.js";

try {
  const flows = await api("/v1/flows");
  rows(document.querySelector("#flows tbody"), flows, (f) => el("tr", {},
    el("th", { scope: "row" }, el("a", { href: `/console/flows/${encodeURIComponent(f.name)}` }, f.name)),
    el("td", {}, el("code", {}, f.version)), el("td", {}, f.file ?? ""), el("td", {}, f.numbers.join(", ")),
    el("td", { class: "n" }, f.actions), el("td", {}, f.warnings.length ? f.warnings.join("; ") : "none")));
} catch (error) {
  toast(problemText(error), "error");
}
