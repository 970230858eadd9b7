// Ward console: draws each page from /ui/api/*. No framework, nothing fetched from elsewhere;
// every value goes into the page as text (never as markup).
"use strict";

const PALETTE = ["#1f6f8b", "#c0703a", "#6a8d3a", "#8a4f9e", "#b8860b", "#3a6fc0", "#a33b5b", "#4d7f7a"];
const SVG = "http://www.w3.org/2000/svg";
const POLL_MS = 5000;

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "onclick") node.addEventListener("click", value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function shape(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function money(value) {
  if (value === null || value === undefined) return "–";
  return "$" + (Math.abs(value) >= 100 ? value.toFixed(2) : value.toFixed(4));
}
function ms(value) { return value === null || value === undefined ? "–" : value.toFixed(0) + " ms"; }
function percent(value) { return (value * 100).toFixed(1) + "%"; }
function count(value) { return Number(value || 0).toLocaleString("en-US"); }

async function fetchJson(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = (body.error && body.error.message) || `${response.status} ${response.statusText}`;
    throw new Error(message);
  }
  return body;
}

function page() { return document.getElementById("page"); }

function show(title, ...content) {
  const main = page();
  main.replaceChildren(el("h1", {}, title), ...content);
}

function failure(error) {
  return el("p", { class: "error", role: "alert" }, "Could not load: " + error.message);
}

function table(columns, rows, options = {}) {
  const head = el("tr", {}, columns.map((column) => el("th", { class: column.num ? "num" : null }, column.label)));
  const body = rows.map((row) => {
    const cells = columns.map((column) => {
      const value = column.value(row);
      return el("td", { class: column.num ? "num" : null, "data-field": column.field || null }, value instanceof Node ? value : String(value));
    });
    const attributes = options.rowAttributes ? options.rowAttributes(row) : {};
    return el("tr", attributes, cells);
  });
  return el("table", { "data-table": options.name || null }, el("thead", {}, head), el("tbody", {}, body));
}

function badge(text, kind) { return el("span", { class: "badge " + (kind || "") }, text); }

// Horizontal bars, one per item: [{label, value, text, colour}].
function bars(name, items, empty, width = 420) {
  if (!items.length) return el("p", { class: "note", "data-chart": name, "data-empty": true }, empty);
  const row = 24, labelWidth = Math.round(width * 0.3), valueWidth = 90;
  const height = items.length * row + 8;
  const max = Math.max(...items.map((item) => item.value), 1e-12);
  const svg = shape("svg", { class: "chart", width, viewBox: `0 0 ${width} ${height}`, role: "img", "data-chart": name });
  items.forEach((item, index) => {
    const y = 4 + index * row;
    const length = Math.max(1, ((width - labelWidth - valueWidth) * item.value) / max);
    svg.append(shape("text", { x: 6, y: y + 15 }, item.label));
    const bar = shape("rect", { x: labelWidth, y: y + 3, width: length, height: row - 8, rx: 2, fill: item.colour || PALETTE[index % PALETTE.length], "data-label": item.label, "data-value": item.value });
    bar.append(shape("title", {}, `${item.label}: ${item.text}`));
    svg.append(bar);
    svg.append(shape("text", { x: labelWidth + length + 6, y: y + 15 }, item.text));
  });
  return svg;
}

function legend(names, colourOf) {
  // Through the CSSOM: the console's content security policy refuses inline style attributes.
  return el("div", { class: "legend" }, names.map((name) => {
    const swatch = el("span", {}, name);
    swatch.style.setProperty("--swatch", colourOf(name));
    return swatch;
  }));
}

// Calls per minute, stacked by tier.
function stackedColumns(name, series, minutes) {
  const tiers = Object.keys(series);
  const colourOf = (tier) => PALETTE[tiers.indexOf(tier) % PALETTE.length];
  const width = 720, height = 220, left = 36, bottom = 20, top = 8;
  const totals = Array.from({ length: minutes }, (_, minute) => tiers.reduce((sum, tier) => sum + series[tier][minute], 0));
  const max = Math.max(1, ...totals);
  const step = (width - left - 4) / minutes;
  const scale = (height - top - bottom) / max;
  const svg = shape("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "data-chart": name });
  svg.append(shape("text", { x: 2, y: top + 10 }, String(max)));
  svg.append(shape("text", { x: 2, y: height - bottom }, "0"));
  svg.append(shape("text", { x: left, y: height - 4 }, `${minutes} min ago`));
  svg.append(shape("text", { x: width - 40, y: height - 4 }, "now"));
  svg.append(shape("line", { x1: left, y1: height - bottom, x2: width - 4, y2: height - bottom, stroke: "#9aa9b8" }));
  for (let minute = 0; minute < minutes; minute++) {
    let y = height - bottom;
    for (const tier of tiers) {
      const value = series[tier][minute];
      if (!value) continue;
      const h = value * scale;
      y -= h;
      const bar = shape("rect", { x: left + minute * step + 0.5, y, width: Math.max(1, step - 1), height: h, fill: colourOf(tier), "data-tier": tier, "data-value": value });
      bar.append(shape("title", {}, `${tier}: ${value} call(s)`));
      svg.append(bar);
    }
  }
  return el("div", { class: "stacked" }, legend(tiers, colourOf), svg);
}

function costRows(report) {
  return report.tiers.concat([report.total]);
}

function costTable(report, name) {
  const columns = [
    { label: "Tier", field: "tier", value: (row) => row.tier },
    { label: "Where", field: "locality", value: (row) => (row.locality ? badge(row.locality, row.locality) : "") },
    { label: "Queries", field: "queries", num: true, value: (row) => count(row.queries) },
    { label: "Share", field: "share", num: true, value: (row) => percent(row.share) },
    { label: "Tokens in", field: "prompt_tokens", num: true, value: (row) => count(row.prompt_tokens) },
    { label: "Tokens out", field: "completion_tokens", num: true, value: (row) => count(row.completion_tokens) },
    { label: "p50", field: "p50_ms", num: true, value: (row) => ms(row.p50_ms) },
    { label: "p95", field: "p95_ms", num: true, value: (row) => ms(row.p95_ms) },
    { label: "Cost", field: "cost_usd", num: true, value: (row) => money(row.cost_usd) },
    { label: "All-cloud", field: "counterfactual_usd", num: true, value: (row) => money(row.counterfactual_usd) },
  ];
  return table(columns, costRows(report), {
    name,
    rowAttributes: (row) => ({ class: row.tier === "total" ? "total" : null, "data-tier": row.tier }),
  });
}

function costSummary(report) {
  const lines = [];
  if (report.reference) {
    lines.push(`All-cloud reference: ${report.reference.name} at $${report.reference.input_usd_per_million} in / $${report.reference.output_usd_per_million} out per million tokens.`);
  } else {
    lines.push("No reference price: set [costs] reference in ward.toml, or a cloud backend's cost, for the all-cloud figures.");
  }
  if (report.saving_usd !== null && report.saving_usd !== undefined) {
    const saved = report.saving_usd >= 0;
    const word = saved ? "saving" : "extra";
    const share = saved && report.saving_share !== null ? ` (${percent(report.saving_share)})` : "";
    lines.push(`All-cloud would have cost ${money(report.total.counterfactual_usd)}; Ward cost ${money(report.total.cost_usd)}: ${word} ${money(Math.abs(report.saving_usd))}${share}.`);
  }
  if (report.idle_backends.length) {
    lines.push(`Backends that answered nothing still cost ${money(report.idle_fixed_usd)} (${report.idle_backends.join(", ")}), counted in the total.`);
  }
  if (report.break_even) {
    const even = report.break_even;
    lines.push(`Break-even: local hardware at ${money(even.monthly_fixed_usd)} a month pays for itself above ${count(Math.round(even.queries_per_day))} local queries a day; this period had ${even.local_queries_per_day.toFixed(1)} a day.`);
  }
  return el("div", { "data-summary": "costs" }, lines.map((line) => el("p", {}, line)));
}

async function overview() {
  const select = el("select", { id: "window" },
    [15, 60, 360, 1440].map((minutes) => el("option", { value: minutes, selected: minutes === 60 }, minutes < 60 ? `${minutes} minutes` : `${minutes / 60} hour(s)`)));
  const controls = el("div", { class: "controls" }, el("label", {}, "Window", select), el("span", { class: "note", id: "updated" }));
  const body = el("div", {});
  show("Overview", controls, body);
  async function draw() {
    let data;
    try {
      data = await fetchJson(`/ui/api/overview?minutes=${select.value}`);
    } catch (error) {
      body.replaceChildren(failure(error));
      return;
    }
    const report = data.costs;
    const phiTotal = Object.values(data.phi).reduce((sum, value) => sum + value, 0);
    const refusalTotal = Object.values(data.refusals).reduce((sum, value) => sum + value, 0);
    const calls = Object.values(data.outcomes).reduce((sum, value) => sum + value, 0);
    const card = (label, value, field) => el("div", { class: "card" }, el("div", { class: "value", "data-field": field }, value), el("div", { class: "label" }, label));
    const byLocality = [
      { label: "local", value: report.local_share, text: percent(report.local_share), colour: "#1f6f8b" },
      { label: "cloud", value: 1 - report.local_share, text: percent(1 - report.local_share), colour: "#c0703a" },
    ].filter((item) => report.total.queries > 0 && item.value > 0);
    body.replaceChildren(
      el("div", { class: "cards" },
        card("requests/s (last minute)", data.requests_per_second.toFixed(2), "requests_per_second"),
        card("calls in window", count(calls), "calls"),
        card("answered locally", report.total.queries ? percent(report.local_share) : "–", "local_share"),
        card("p95 latency", ms(report.total.p95_ms), "p95_ms"),
        card("cost in window", money(report.total.cost_usd), "cost_usd"),
        card("PHI findings", count(phiTotal), "phi"),
        card("refused or failed", count(refusalTotal), "refusals")),
      el("h2", {}, "Calls per minute by tier"),
      stackedColumns("calls", data.per_minute, data.minutes),
      el("h2", {}, "Latency and cost by tier"),
      costTable(report, "tiers"),
      el("div", { class: "grid2" },
        el("section", {}, el("h2", {}, "Cost by tier"),
          bars("cost", report.tiers.map((tier) => ({ label: tier.tier, value: tier.cost_usd, text: money(tier.cost_usd) })).filter((item) => item.value > 0), "Nothing cost anything in this window.")),
        el("section", {}, el("h2", {}, "Local and cloud"),
          bars("locality", byLocality, "No answered calls in this window.")),
        el("section", {}, el("h2", {}, "PHI findings by category"),
          bars("phi", Object.entries(data.phi).map(([label, value]) => ({ label, value, text: count(value) })), "No PHI found in this window.")),
        el("section", {}, el("h2", {}, "Refusals and failures by error"),
          bars("refusals", Object.entries(data.refusals).map(([label, value]) => ({ label, value, text: count(value), colour: "#b3261e" })), "No refusals in this window."))));
    document.getElementById("updated").textContent = `Updated ${new Date().toLocaleTimeString()}; refreshes every ${POLL_MS / 1000} s.`;
  }
  select.addEventListener("change", draw);
  await draw();
  setInterval(() => { if (!document.hidden) draw(); }, POLL_MS);
}

function isoDate(date) { return date.toISOString().slice(0, 10); }

async function costs() {
  const params = new URLSearchParams(location.search);
  const until = new Date(Date.now() + 86400000);
  const since = new Date(until.getTime() - 30 * 86400000);
  const sinceInput = el("input", { type: "date", name: "since", value: params.get("since") || isoDate(since) });
  const untilInput = el("input", { type: "date", name: "until", value: params.get("until") || isoDate(until) });
  const form = el("form", { class: "controls", method: "get", action: "/ui/costs" },
    el("label", {}, "Since", sinceInput), el("label", {}, "Until (not included)", untilInput), el("button", { type: "submit" }, "Show"));
  const body = el("div", {});
  show("Costs", form, body);
  try {
    const query = new URLSearchParams({ since: sinceInput.value, until: untilInput.value });
    const report = await fetchJson(`/ui/api/costs?${query}`);
    const pairs = [];
    report.tiers.forEach((tier) => {
      pairs.push({ label: `${tier.tier}: Ward`, value: tier.cost_usd, text: money(tier.cost_usd), colour: "#1f6f8b" });
      if (tier.counterfactual_usd !== null) pairs.push({ label: `${tier.tier}: all-cloud`, value: tier.counterfactual_usd, text: money(tier.counterfactual_usd), colour: "#c0703a" });
    });
    body.replaceChildren(
      el("p", { class: "note" }, `From ${report.since} to ${report.until} (${report.days.toFixed(1)} days). Owned hardware costs its monthly figure over the period, shared by the calls it answered.`),
      costTable(report, "costs"),
      costSummary(report),
      el("h2", {}, "Ward against all-cloud, by tier"),
      bars("counterfactual", pairs, "No calls in this period.", 760));
  } catch (error) {
    body.replaceChildren(failure(error));
  }
}

async function backends() {
  const body = el("div", {});
  show("Backends", body);
  async function draw() {
    try {
      const data = (await fetchJson("/ui/api/backends")).data;
      body.replaceChildren(table([
        { label: "Backend", field: "name", value: (row) => row.name },
        { label: "Where", field: "locality", value: (row) => badge(row.locality, row.locality) },
        { label: "Health", field: "ready", value: (row) => (row.ready ? badge("ready", "good") : badge("down", "bad")) },
        { label: "Models", field: "models", value: (row) => row.models.join(", ") || "–" },
        { label: "In flight", field: "in_flight", num: true, value: (row) => count(row.in_flight) },
        { label: "Price per million tokens", field: "price", value: (row) => (row.price ? `$${row.price.input_per_million} in / $${row.price.output_per_million} out` : "–") },
        { label: "Fixed a month", field: "fixed_per_month", num: true, value: (row) => (row.fixed_per_month === null ? "–" : money(row.fixed_per_month)) },
      ], data, { name: "backends", rowAttributes: (row) => ({ "data-backend": row.name }) }));
    } catch (error) {
      body.replaceChildren(failure(error));
    }
  }
  await draw();
  setInterval(() => { if (!document.hidden) draw(); }, POLL_MS);
}

async function audit() {
  const detail = el("div", { class: "detail", id: "detail" });
  const body = el("div", {});
  show("Audit log", el("p", { class: "note" }, "The latest 100 records, newest first: metadata only. Select one to see it; its content needs a key with the decrypt right, and reading it is recorded."), body, detail);
  function open(record) {
    const content = el("div", {});
    const button = el("button", { type: "button", id: "show-content" }, "Show content");
    button.addEventListener("click", async () => {
      try {
        const full = await fetchJson(`/ui/api/audit/${encodeURIComponent(record.id)}?content=true`);
        const text = full.content ? JSON.stringify(full.content, null, 2) : "This record keeps no content (content mode: " + full.content_mode + ").";
        content.replaceChildren(el("pre", { "data-content": record.id }, text));
      } catch (error) {
        content.replaceChildren(el("p", { class: "error", role: "alert", "data-content-refused": true }, error.message));
      }
    });
    detail.replaceChildren(el("h2", {}, `Record ${record.id}`), el("pre", {}, JSON.stringify(record, null, 2)), button, content);
  }
  try {
    const data = (await fetchJson("/ui/api/audit?limit=100")).data;
    body.replaceChildren(table([
      { label: "Time", field: "time", value: (row) => row.time.replace("T", " ").slice(0, 19) },
      { label: "Endpoint", field: "endpoint", value: (row) => row.endpoint },
      { label: "Key", field: "key_id", value: (row) => row.key_id || "–" },
      { label: "Tier", field: "tier", value: (row) => row.tier || "–" },
      { label: "Backend", field: "backend", value: (row) => row.backend || "–" },
      { label: "PHI", field: "phi", value: (row) => Object.keys(row.phi || {}).join(", ") || "none" },
      { label: "Tokens", field: "tokens", num: true, value: (row) => count((row.prompt_tokens || 0) + (row.completion_tokens || 0)) },
      { label: "Latency", field: "latency", num: true, value: (row) => ms(row.latency && row.latency.total_ms) },
      { label: "Outcome", field: "outcome", value: (row) => badge(`${row.status} ${row.outcome}`, row.outcome === "ok" ? "good" : row.outcome === "action" ? "" : "bad") },
    ], data, { name: "audit", rowAttributes: (row) => ({ class: "clickable", "data-id": row.id }) }));
    body.querySelectorAll("tr[data-id]").forEach((row, index) => row.addEventListener("click", () => open(data[index])));
  } catch (error) {
    body.replaceChildren(failure(error));
  }
}

async function profiles() {
  const body = el("div", {});
  show("Profiles", body);
  try {
    const data = (await fetchJson("/ui/api/profiles")).data;
    body.replaceChildren(table([
      { label: "Profile", field: "id", value: (row) => row.id },
      { label: "Version", field: "version", value: (row) => row.version },
      { label: "Title", field: "title", value: (row) => row.title },
      { label: "Served by", field: "served_by", value: (row) => row.model || (row.tier ? `tier ${row.tier}` : "routing") },
      { label: "Sections", field: "sections", value: (row) => row.sections.join(", ") || "–" },
      { label: "Checks", field: "checks", value: (row) => row.checks.join(", ") || "–" },
      { label: "Origin", field: "origin", value: (row) => row.origin },
    ], data, { name: "profiles" }));
  } catch (error) {
    body.replaceChildren(failure(error));
  }
}

async function keys() {
  const body = el("div", {});
  show("Keys", el("p", { class: "note" }, "Create, revoke and rotate keys with ward keys on the server; secrets are never shown here."), body);
  try {
    const data = (await fetchJson("/ui/api/keys")).data;
    body.replaceChildren(table([
      { label: "Id", field: "id", value: (row) => row.id },
      { label: "Name", field: "name", value: (row) => row.name },
      { label: "Role", field: "role", value: (row) => row.role },
      { label: "Status", field: "status", value: (row) => badge(row.status, row.status === "active" ? "good" : "bad") },
      { label: "Decrypt", field: "decrypt", value: (row) => (row.decrypt ? "yes" : "no") },
      { label: "Created", field: "created", value: (row) => row.created.slice(0, 19).replace("T", " ") },
      { label: "Expires", field: "expires", value: (row) => (row.expires ? row.expires.slice(0, 10) : "never") },
      { label: "Rate limit", field: "rate_limit_per_minute", num: true, value: (row) => (row.rate_limit_per_minute ? `${row.rate_limit_per_minute}/min` : "–") },
      { label: "Tokens a day", field: "token_budget_per_day", num: true, value: (row) => (row.token_budget_per_day ? count(row.token_budget_per_day) : "–") },
    ], data, { name: "keys", rowAttributes: (row) => ({ "data-key": row.name }) }));
  } catch (error) {
    body.replaceChildren(failure(error));
  }
}

const PAGES = { overview, costs, backends, audit, profiles, keys };
const draw = PAGES[document.body.dataset.page];
if (draw) draw();
