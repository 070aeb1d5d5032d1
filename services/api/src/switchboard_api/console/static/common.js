// What every console page shares: the JSON API with the session's CSRF token, problem+json
// errors shown to the user, small DOM builders and formatters. Our own code, no build step.

export const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** fetch() against the api with the session cookie; JSON in and out. Throws ApiError. */
export async function api(path, { method = "GET", body, headers = {}, raw = false } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
  if (method !== "GET" && method !== "HEAD") init.headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) {
    if (typeof body === "string" || body instanceof Blob) {
      init.body = body;
    } else {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
  }
  const response = await fetch(path, init);
  if (response.status === 401) {
    location.href = `/console/login?next=${encodeURIComponent(location.pathname + location.search)}`;
    throw new ApiError(401, null);
  }
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, problem);
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

/** el("td", {class: "n"}, "text", child…): an element with attributes and children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function rows(tbody, list, render) {
  tbody.replaceChildren(...list.map(render));
}

export function toast(message, kind = "info") {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.dataset.kind = kind;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.textContent = ""; }, 6000);
}

export function problemText(error) {
  if (!(error instanceof ApiError)) return String(error);
  const p = error.problem || {};
  const parts = [p.detail || p.title || error.message];
  if (p.field) parts.push(`(field ${p.field})`);
  if (Array.isArray(p.problems)) parts.push(p.problems.map((x) => `${x.pointer ?? x[0]}: ${x.message ?? x[1]}`).join("; "));
  return parts.join(" ");
}

export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return m ? `${m} min ${String(s % 60).padStart(2, "0")} s` : `${s} s`;
}

export function utc(value) {
  if (!value) return "";
  const d = typeof value === "number" ? new Date(value) : new Date(value);
  return d.toISOString().replace("T", " ").slice(0, 19);
}

export function money(cost) {
  return Object.entries(cost || {}).map(([currency, amount]) => `${currency} ${Number(amount).toFixed(2)}`).join(", ");
}

/** The query string of a form's non-empty fields (datetime-local read as UTC). */
export function formQuery(form) {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (value === "" || value instanceof File) continue;
    params.set(name, form.elements[name]?.type === "datetime-local" ? `${value}:00Z` : value);
  }
  return params;
}

export function callLink(id, live) {
  const href = `/console/calls/${encodeURIComponent(id)}` + (live ? `?live=${encodeURIComponent(live)}` : "");
  return el("a", { href }, "Trace");
}
