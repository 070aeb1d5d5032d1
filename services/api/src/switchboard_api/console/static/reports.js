// Reports: calls, answer rate, average duration and cost per hour/day (/v1/reports/summary), and a
// flow's per-step funnel (/v1/reports/funnel), drawn with Chart.js and chartjs-chart-funnel.
import { api, el, formQuery, money, problemText, rows, toast, utc } from "./common.js";
import "./vendor/chart.umd.min.js";
import "./vendor/chartjs-chart-funnel.umd.min.js";

const Chart = window.Chart;
Chart.register(window.ChartFunnel.FunnelController, window.ChartFunnel.TrapezoidElement);
const charts = {};
Chart.defaults.animation = false; // steady pictures for screenshots, less work for the page

function draw(id, config) {
  charts[id]?.destroy();
  charts[id] = new Chart(document.getElementById(id), config);
}

async function summary() {
  const query = formQuery(document.getElementById("report-form"));
  try {
    const answer = await api(`/v1/reports/summary?${query}`);
    const groups = [...answer.groups].reverse(); // oldest first, left to right
    const labels = groups.map((g) => utc(g.group).slice(0, answer.group_by === "day" ? 10 : 16));
    draw("chart-calls", {
      data: {
        labels,
        datasets: [
          { type: "bar", label: "Calls", data: groups.map((g) => g.calls), yAxisID: "y" },
          { type: "bar", label: "Answered", data: groups.map((g) => g.answered), yAxisID: "y" },
          { type: "line", label: "Answer rate (%)", data: groups.map((g) => Math.round(g.asr * 1000) / 10), yAxisID: "rate" },
        ],
      },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: "calls" } },
        rate: { position: "right", min: 0, max: 100, title: { display: true, text: "%" } } } },
    });
    draw("chart-acd", {
      type: "line",
      data: { labels, datasets: [{ label: "Average duration (s)", data: groups.map((g) => g.acd_s) }] },
      options: { scales: { y: { beginAtZero: true } } },
    });
    const currencies = [...new Set(groups.flatMap((g) => Object.keys(g.cost)))];
    draw("chart-cost", {
      type: "bar",
      data: { labels, datasets: currencies.map((c) => ({ label: c, data: groups.map((g) => Number(g.cost[c] || 0)) })) },
      options: { scales: { y: { beginAtZero: true } } },
    });
    rows(document.querySelector("#summary tbody"), answer.groups, (g) => el("tr", {},
      el("td", {}, utc(g.group)), el("td", { class: "n" }, g.calls), el("td", { class: "n" }, g.answered),
      el("td", { class: "n" }, `${(g.asr * 100).toFixed(1)} %`), el("td", { class: "n" }, g.acd_s),
      el("td", { class: "n" }, g.billable_minutes), el("td", {}, money(g.cost))));
  } catch (error) {
    toast(problemText(error), "error");
  }
}

async function funnel() {
  const query = formQuery(document.getElementById("funnel-form"));
  try {
    const answer = await api(`/v1/reports/funnel?${query}`);
    const steps = answer.actions;
    draw("chart-funnel", {
      type: "funnel",
      data: {
        labels: ["every call", ...steps.map((s) => `${s.action} ${s.pointer}`)],
        datasets: [{ label: "Calls", data: [answer.calls, ...steps.map((s) => s.calls)] }],
      },
      options: {
        indexAxis: "y",
        scales: { y: { display: true, ticks: { font: { family: "monospace" } } } },
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: (item) => `${item.raw} calls` } } },
      },
    });
    rows(document.querySelector("#drops tbody"), answer.hangups, (h) => el("tr", {},
      el("td", {}, h.last_action ?? "(none)"), el("td", {}, h.status), el("td", {}, h.hangup_cause ?? ""),
      el("td", { class: "n" }, h.calls)));
    rows(document.querySelector("#answers tbody"), Object.entries(answer.collects).flatMap(([name, answers]) =>
      Object.entries(answers).map(([value, calls]) => [name, value, calls])),
    ([name, value, calls]) => el("tr", {}, el("td", {}, name), el("td", {}, value), el("td", { class: "n" }, calls)));
    document.getElementById("funnel-cap").textContent =
      `Calls reaching each action of ${answer.flow}${answer.version ? ` version ${answer.version}` : ""} (${answer.calls} calls)`;
  } catch (error) {
    toast(problemText(error), "error");
  }
}

document.getElementById("report-form").addEventListener("submit", (e) => { e.preventDefault(); summary(); });
document.getElementById("funnel-form").addEventListener("submit", (e) => { e.preventDefault(); funnel(); });
const params = new URLSearchParams(location.search);
const flows = await api("/v1/flows").catch(() => []);
const select = document.getElementById("fu-flow");
select.replaceChildren(...flows.map((f) => el("option", { value: f.name }, f.name)));
if (params.get("flow")) select.value = params.get("flow");
if (params.get("version")) document.getElementById("fu-version").value = params.get("version");
await summary();
if (select.value) await funnel();
