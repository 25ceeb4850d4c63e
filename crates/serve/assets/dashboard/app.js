// flinkops dashboard: fleet (/), job (/jobs/{env}/{job}) and alerts (/alerts) pages.
// Plain JavaScript, no dependencies; charts are SVG drawn here. Reads serve's JSON API; actions
// send the bearer token kept in this tab's sessionStorage.
"use strict";

const REFRESH_MS = 5000;
const TOKEN_KEY = "flinkops.token";
const main = document.getElementById("main");
let timer = null;
let busyAction = false;

// ---- helpers -------------------------------------------------------------------------------

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}
function fmtNum(v, digits) {
  if (v === null || v === undefined || !isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(1) + "G";
  if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(1) + "k";
  return v.toFixed(digits ?? (a < 10 && a !== 0 && v % 1 !== 0 ? 1 : 0));
}
function fmtBytes(v) {
  if (v === null || v === undefined || !isFinite(v)) return "–";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (Math.abs(v) >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return (i === 0 ? v.toFixed(0) : v.toFixed(1)) + " " + u[i];
}
function fmtDur(ms) {
  if (ms === null || ms === undefined || !isFinite(ms)) return "–";
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + "s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + "m " + (s % 60) + "s";
  const h = Math.floor(m / 60);
  if (h < 48) return h + "h " + (m % 60) + "m";
  return Math.floor(h / 24) + "d " + (h % 24) + "h";
}
function fmtMs(ms) {
  if (ms === null || ms === undefined || !isFinite(ms)) return "–";
  return ms < 1000 ? ms.toFixed(0) + " ms" : (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s";
}
function ago(ts) {
  if (!ts) return "–";
  return fmtDur(Date.now() - ts) + " ago";
}
function clock(ts) {
  if (!ts) return "–";
  const d = new Date(ts);
  const p = n => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
function stateClass(s) {
  s = String(s || "").toUpperCase();
  if (s === "RUNNING" || s === "HEALTHY" || s === "COMPLETED" || s === "DONE" || s === "RESOLVED") return "ok";
  if (["FAILED", "FAILING", "UNHEALTHY", "UNREACHABLE", "CRITICAL", "FIRING"].includes(s)) return "bad";
  if (["DEGRADED", "RESTARTING", "CANCELLING", "SUSPENDED", "WARNING", "PENDING", "IN_PROGRESS", "ROLLED_BACK", "RECONCILING", "CREATED", "INITIALIZING"].includes(s)) return "warn";
  if (s === "UNKNOWN" || s === "ABSENT") return "";
  return "info";
}
function badge(s, cls) {
  return `<span class="badge ${cls ?? stateClass(s)}">${esc(String(s ?? "–").toLowerCase().replace(/_/g, " "))}</span>`;
}
// A name as it is (alert rules are CamelCase).
function tag(s, cls) {
  return `<span class="badge ${cls || ""}">${esc(s)}</span>`;
}
function shortPath(p) {
  if (!p) return "–";
  const parts = String(p).split("/").filter(Boolean);
  return parts.slice(-2).join("/");
}

class HttpError extends Error {
  constructor(status, kind, message) { super(message); this.status = status; this.kind = kind; }
}

async function api(path, opts) {
  let r;
  try {
    r = await fetch(path, Object.assign({headers: {"Accept": "application/json"}}, opts || {}));
  } catch (e) {
    throw new HttpError(0, "unreachable", `serve at ${location.host} does not answer (${e.message}); retrying every ${REFRESH_MS / 1000} s`);
  }
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) {
    const err = body && body.error ? body.error : {kind: "http", message: `HTTP ${r.status} ${r.statusText}`};
    throw new HttpError(r.status, err.kind, err.message);
  }
  return body;
}

function setBanner(text, warn) {
  const b = document.getElementById("banner");
  if (!text) { b.hidden = true; b.textContent = ""; return; }
  b.hidden = false;
  b.className = "banner" + (warn ? " warn" : "");
  b.textContent = text;
}
let flashTimer = null;
function flash(text, kind, sticky) {
  const f = document.getElementById("flash");
  f.hidden = false;
  f.className = "flash " + (kind || "");
  f.textContent = text;
  clearTimeout(flashTimer);
  if (!sticky) flashTimer = setTimeout(() => { f.hidden = true; }, 9000);
}
function updated() {
  document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
}
function showMessage(title, text) {
  main.innerHTML = `<div class="message" id="message"><h2>${esc(title)}</h2><p>${esc(text)}</p><p><a href="/">← Back to the fleet</a></p></div>`;
}
function schedule(fn, ms) {
  clearTimeout(timer);
  timer = setTimeout(fn, ms || REFRESH_MS);
}

// ---- token and actions -----------------------------------------------------------------------

function token() { return sessionStorage.getItem(TOKEN_KEY); }
function tokenButton() {
  document.getElementById("token-button").textContent = token() ? "Token set ✓" : "Set token";
}
function askToken(reason) {
  return new Promise(resolve => {
    const d = document.getElementById("token-dialog");
    const input = document.getElementById("token-input");
    const err = document.getElementById("token-error");
    input.value = "";
    err.hidden = !reason;
    err.textContent = reason || "";
    d.onclose = () => {
      if (d.returnValue === "ok" && input.value.trim()) {
        sessionStorage.setItem(TOKEN_KEY, input.value.trim());
        tokenButton();
        resolve(true);
      } else resolve(false);
    };
    d.returnValue = "";
    d.showModal();
    input.focus();
  });
}
function confirmAction(title, text, okLabel) {
  return new Promise(resolve => {
    const d = document.getElementById("confirm-dialog");
    document.getElementById("confirm-title").textContent = title;
    document.getElementById("confirm-text").textContent = text;
    document.getElementById("confirm-ok").textContent = okLabel || "Confirm";
    d.onclose = () => resolve(d.returnValue === "ok");
    d.returnValue = "";
    d.showModal();
  });
}
// POSTs an action with the token; asks for the token when there is none or it was refused.
async function act(path, body, label) {
  if (!token() && !(await askToken())) { flash(`${label}: cancelled (no token)`, "error"); return null; }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const opts = {method: "POST", headers: {"Authorization": "Bearer " + token(), "Accept": "application/json"}};
      if (body) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
      return await api(path, opts);
    } catch (e) {
      if (e.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        tokenButton();
        if (attempt === 0) {
          // The reason is shown in the dialog; the flash says what waits for it.
          flash(`${label}: waiting for a valid token…`, "", true);
          if (await askToken(`The token was refused: ${e.message}`)) { flash(`${label}: sending with the new token…`, "", true); continue; }
        }
        flash(`${label}: the token was refused — ${e.message}`, "error", true);
        return null;
      }
      flash(`${label} failed: ${e.message}`, "error", true);
      return null;
    }
  }
  return null;
}

// ---- charts ------------------------------------------------------------------------------------

const COLORS = ["#2563eb", "#f26b3a", "#16a34a", "#9333ea", "#0891b2", "#db2777"];

// series: [{name, color, points: [{ts, value}]}]; fmt formats y values.
function lineChart(id, series, fmt, opts) {
  opts = opts || {};
  const W = opts.width || 560, H = opts.height || 190, L = 58, R = 12, T = 10, B = 24;
  const pts = series.flatMap(s => s.points);
  const legend = `<div class="legend">${series.map((s, i) => `<span><i style="background:${s.color || COLORS[i]}"></i>${esc(s.name)}${s.points.length ? ": " + esc(fmt(s.points[s.points.length - 1].value)) : ""}</span>`).join("")}</div>`;
  if (!pts.length) return `<div id="${id}" class="chart-box" data-points="0"><div class="empty">${esc(opts.empty || "No samples yet")}</div></div>`;
  let x0 = Math.min(...pts.map(p => p.ts)), x1 = Math.max(...pts.map(p => p.ts));
  if (x1 === x0) { x0 -= 30000; x1 += 30000; }
  let y1 = Math.max(...pts.map(p => p.value)), y0 = Math.min(0, ...pts.map(p => p.value));
  if (y1 <= y0) y1 = y0 + 1;
  y1 = opts.integer ? Math.max(4, Math.ceil(y1 / 4) * 4) : 4 * niceStep((y1 - y0) / 4) + y0;
  const sx = t => L + (t - x0) / (x1 - x0) * (W - L - R);
  const sy = v => T + (1 - (v - y0) / (y1 - y0)) * (H - T - B);
  let g = "";
  for (let i = 0; i <= 4; i++) {
    const v = y0 + (y1 - y0) * i / 4, y = sy(v);
    g += `<line class="grid" x1="${L}" x2="${W - R}" y1="${y}" y2="${y}"/><text x="${L - 6}" y="${y + 3}" text-anchor="end">${esc(fmt(v))}</text>`;
  }
  for (let i = 0; i <= 3; i++) {
    const t = x0 + (x1 - x0) * i / 3;
    const d = new Date(t);
    g += `<text x="${sx(t)}" y="${H - 6}" text-anchor="${i === 0 ? "start" : i === 3 ? "end" : "middle"}">${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}:${String(d.getSeconds()).padStart(2, "0")}</text>`;
  }
  let paths = "";
  series.forEach((s, i) => {
    if (!s.points.length) return;
    const c = s.color || COLORS[i];
    if (opts.bars) {
      const w = Math.max(3, Math.min(14, (W - L - R) / (s.points.length * 1.6)));
      s.points.forEach(p => { paths += `<rect class="bar" x="${sx(p.ts) - w / 2}" y="${sy(p.value)}" width="${w}" height="${Math.max(0.5, sy(y0) - sy(p.value))}" fill="${c}" data-value="${p.value}"><title>${esc(clock(p.ts))}: ${esc(fmt(p.value))}</title></rect>`; });
    } else {
      const d = s.points.map((p, j) => `${j ? "L" : "M"}${sx(p.ts).toFixed(1)},${sy(p.value).toFixed(1)}`).join("");
      paths += `<path class="series" d="${d}" fill="none" stroke="${c}" stroke-width="${i === 0 ? 3.2 : 1.8}"${i > 0 ? ' stroke-dasharray="6 4"' : ""} data-name="${esc(s.name)}" data-points="${s.points.length}" data-last="${s.points[s.points.length - 1].value}"/>`;
      if (s.points.length === 1) paths += `<circle cx="${sx(s.points[0].ts)}" cy="${sy(s.points[0].value)}" r="3" fill="${c}"/>`;
    }
  });
  return `<div id="${id}" class="chart-box" data-points="${pts.length}"><svg class="chart" viewBox="0 0 ${W} ${H}" preserveAspectRatio="xMidYMid meet">${g}<line x1="${L}" x2="${W - R}" y1="${sy(y0)}" y2="${sy(y0)}" stroke="#cbd2dc"/>${paths}</svg>${legend}</div>`;
}
// The smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k) at least v: a grid step.
function niceStep(v) {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// rows: [{name, points: [{ts, value}]}] with values in ms/s (0..1000); one column per sample
// (the newest 60), the newest on the right.
function heatMap(id, rows, hue) {
  const all = rows.flatMap(r => r.points);
  if (!all.length) return `<div id="${id}" class="chart-box" data-cells="0"><div class="empty">No samples yet</div></div>`;
  const cols = 60, W = 560, L = 170, R = 8, T = 6, rowH = 26, B = 22;
  const H = T + rows.length * rowH + B;
  const times = [...new Set(all.map(p => p.ts))].sort((a, b) => a - b).slice(-cols);
  const col = new Map(times.map((t, i) => [t, cols - times.length + i]));
  const cw = (W - L - R) / cols;
  let out = "", n = 0;
  rows.forEach((r, i) => {
    const y = T + i * rowH;
    const label = r.name.length > 24 ? r.name.slice(0, 23) + "…" : r.name;
    out += `<text x="${L - 8}" y="${y + 16}" text-anchor="end" class="row-label"><title>${esc(r.name)}</title>${esc(label)}</text>`;
    out += `<rect x="${L}" y="${y + 2}" width="${W - L - R}" height="${rowH - 5}" fill="#f6f7f9"/>`;
    if (!r.points.length) out += `<text x="${L + 8}" y="${y + 16}">no value reported by Flink</text>`;
    r.points.forEach(p => {
      const c = col.get(p.ts);
      if (c === undefined) return;
      const f = Math.max(0, Math.min(1, p.value / 1000));
      out += `<rect class="cell" x="${L + c * cw}" y="${y + 2}" width="${Math.max(1, cw - 1)}" height="${rowH - 5}" fill="hsl(${hue - f * hue},${55 + f * 30}%,${88 - f * 43}%)" data-value="${p.value}"><title>${esc(r.name)} ${esc(clock(p.ts))}: ${p.value.toFixed(0)} ms/s</title></rect>`;
      n++;
    });
  });
  if (times.length >= 15) out += `<text x="${L + (cols - times.length) * cw}" y="${H - 6}">${esc(new Date(times[0]).toLocaleTimeString())}</text>`;
  out += `<text x="${W - R}" y="${H - 6}" text-anchor="end">${esc(new Date(times[times.length - 1]).toLocaleTimeString())}</text>`;
  out += `<text x="${L - 8}" y="${H - 6}" text-anchor="end">${times.length} sample${times.length > 1 ? "s" : ""}</text>`;
  return `<div id="${id}" class="chart-box" data-cells="${n}"><svg class="chart" viewBox="0 0 ${W} ${H}">${out}</svg></div>`;
}

// The job graph: vertices in columns by depth, edges from inputs.
function jobGraph(plan, vertices) {
  const nodes = (plan && plan.nodes) || [];
  if (!nodes.length) return `<div id="job-graph" class="empty">No job graph (Flink does not answer or the job does not run)</div>`;
  const byId = {};
  vertices.forEach(v => { byId[v.id] = v; });
  const depth = {};
  const d = n => {
    if (depth[n.id] !== undefined) return depth[n.id];
    depth[n.id] = 0;
    const ins = (n.inputs || []).map(i => nodes.find(m => m.id === i.id)).filter(Boolean);
    depth[n.id] = ins.length ? 1 + Math.max(...ins.map(d)) : 0;
    return depth[n.id];
  };
  nodes.forEach(d);
  const cols = {};
  nodes.forEach(n => { (cols[depth[n.id]] = cols[depth[n.id]] || []).push(n); });
  const ncol = Math.max(...Object.keys(cols).map(Number)) + 1;
  const maxRows = Math.max(...Object.values(cols).map(c => c.length));
  const BW = 210, BH = 62, GX = 60, GY = 18;
  const W = ncol * BW + (ncol - 1) * GX + 20, H = maxRows * BH + (maxRows - 1) * GY + 20;
  const pos = {};
  Object.entries(cols).forEach(([c, list]) => list.forEach((n, i) => { pos[n.id] = {x: 10 + Number(c) * (BW + GX), y: 10 + i * (BH + GY) + (maxRows - list.length) * (BH + GY) / 2}; }));
  let edges = "", boxes = "";
  nodes.forEach(n => (n.inputs || []).forEach(i => {
    const a = pos[i.id], b = pos[n.id];
    if (!a || !b) return;
    const x0 = a.x + BW, y0 = a.y + BH / 2, x1 = b.x, y1 = b.y + BH / 2;
    edges += `<path d="M${x0},${y0} C${x0 + GX / 2},${y0} ${x1 - GX / 2},${y1} ${x1},${y1}" fill="none" stroke="#9aa4b2" stroke-width="1.5" marker-end="url(#arrow)"/><text class="sub" x="${(x0 + x1) / 2}" y="${(y0 + y1) / 2 - 4}" text-anchor="middle">${esc((i.ship_strategy || "").toLowerCase())}</text>`;
  }));
  nodes.forEach(n => {
    const p = pos[n.id], v = byId[n.id] || {};
    const busy = v.busy_ms_per_s_max;
    const f = busy === null || busy === undefined ? null : Math.max(0, Math.min(1, busy / 1000));
    const stroke = f === null ? "#cbd2dc" : `hsl(${120 - f * 120},70%,42%)`;
    const name = String(v.name || n.description || n.operator || n.id).replace(/<br\/?>/g, " ");
    const label = name.length > 30 ? name.slice(0, 29) + "…" : name;
    boxes += `<g class="vertex" data-id="${esc(n.id)}" data-parallelism="${v.parallelism ?? n.parallelism}"><title>${esc(name)}</title><rect x="${p.x}" y="${p.y}" width="${BW}" height="${BH}" rx="7" fill="#fff" stroke="${stroke}" stroke-width="2"/>` +
      `<text x="${p.x + 10}" y="${p.y + 18}">${esc(label)}</text>` +
      `<text class="sub" x="${p.x + 10}" y="${p.y + 36}">parallelism ${esc(v.parallelism ?? n.parallelism)}${v.max_parallelism ? " / max " + esc(v.max_parallelism) : ""}</text>` +
      `<text class="sub" x="${p.x + 10}" y="${p.y + 52}">busy ${busy === null || busy === undefined ? "–" : (busy / 10).toFixed(0) + "%"} · in ${fmtNum(v.records_in_per_s)}/s · out ${fmtNum(v.records_out_per_s)}/s</text></g>`;
  });
  return `<div id="job-graph" class="scroll"><svg class="graph" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#9aa4b2"/></marker></defs>${edges}${boxes}</svg></div>`;
}

// ---- fleet page --------------------------------------------------------------------------------

const filters = {text: "", env: "", health: "", state: "", page: 0};
const PAGE = 100;
// Jobs that need a look first (failing, unhealthy, alerting), then the spec's order.
function rank(j) {
  if (j.alerts_firing.length || j.health === "unhealthy" || ["FAILED", "FAILING", "UNREACHABLE"].includes(j.state)) return 0;
  if (j.health === "degraded" || j.pending || (j.state !== "RUNNING" && j.state !== "UNKNOWN")) return 1;
  return 2;
}
let lastFleet = null;

async function fleetPage() {
  try {
    const f = await api("/api/v1/dashboard/fleet");
    lastFleet = f;
    const down = f.environments.filter(e => e.reachable === false);
    setBanner(down.length ? down.map(e => `Environment ${e.name}: ${e.error || "Flink does not answer"}`).join(" · ") + " — showing the last stored state" : "", true);
    renderFleet(f);
    updated();
  } catch (e) {
    if (lastFleet) setBanner(e.message); else showMessage("The fleet cannot be shown", e.message);
  }
  schedule(fleetPage);
}

function renderFleet(f) {
  const t0 = performance.now();
  const envs = f.environments;
  const jobs = f.jobs;
  const running = jobs.filter(j => j.state === "RUNNING").length;
  const firing = jobs.reduce((n, j) => n + j.alerts_firing.length, 0);
  const unhealthy = jobs.filter(j => j.health === "unhealthy" || j.health === "degraded").length;
  const tput = jobs.reduce((n, j) => n + (j.records_in_per_s || 0), 0);
  if (!document.getElementById("fleet")) {
    main.innerHTML = `<div id="fleet"><h1>${esc(f.platform)}</h1><div class="muted">Every environment and job managed by this serve</div>
      <div class="stats" id="fleet-stats"></div><div class="cards" id="env-cards"></div>
      <div class="panel"><div class="head"><h2>Jobs</h2><span class="spacer"></span>
      <div class="filters"><input id="filter-text" placeholder="Filter by name…" value="${esc(filters.text)}">
      <select id="filter-env"><option value="">All environments</option></select>
      <select id="filter-state"><option value="">Any state</option><option>RUNNING</option><option>FAILED</option><option>UNREACHABLE</option><option>ABSENT</option><option>UNKNOWN</option></select>
      <select id="filter-health"><option value="">Any health</option><option>healthy</option><option>degraded</option><option>unhealthy</option><option>unknown</option></select></div></div>
      <div id="fleet-table-box"></div></div></div>`;
    document.getElementById("filter-text").addEventListener("input", e => { filters.text = e.target.value; filters.page = 0; renderFleet(lastFleet); });
    for (const k of ["env", "state", "health"]) document.getElementById("filter-" + k).addEventListener("change", e => { filters[k] = e.target.value; filters.page = 0; renderFleet(lastFleet); });
    document.getElementById("fleet-table-box").addEventListener("click", e => {
      const b = e.target.closest("button[data-page]");
      if (b) { filters.page = Number(b.dataset.page); renderFleet(lastFleet); }
    });
  }
  const envSel = document.getElementById("filter-env");
  const envNames = envs.map(e => e.name);
  if (envSel.options.length !== envNames.length + 1) envSel.innerHTML = `<option value="">All environments</option>` + envNames.map(n => `<option>${esc(n)}</option>`).join("");
  envSel.value = filters.env;
  document.getElementById("filter-state").value = filters.state;
  document.getElementById("filter-health").value = filters.health;
  document.getElementById("fleet-stats").innerHTML = [
    ["Jobs", jobs.length], ["Running", running], ["Degraded / unhealthy", unhealthy], ["Alerts firing", firing], ["Records in / s", fmtNum(tput)],
  ].map(([l, v]) => `<div class="stat"><div class="v">${esc(v)}</div><div class="l">${esc(l)}</div></div>`).join("");
  document.getElementById("env-cards").innerHTML = envs.map(e => `<div class="card env-card" data-env="${esc(e.name)}">
    <div class="title"><span class="dot ${e.reachable === true ? "ok" : e.reachable === false ? "bad" : ""}"></span>${esc(e.name)}<span class="spacer"></span>${badge(e.target, "info")}</div>
    <div class="kv"><span>Flink</span><span>${esc(e.flink_version || "–")}</span>
    <span>Web UI</span><span>${e.rest_url ? `<a href="${esc(e.rest_url)}" target="_blank" rel="noopener">${esc(e.rest_url)}</a>` : "–"}</span>
    <span>Jobs</span><span>${e.jobs}</span>
    <span>Status</span><span>${e.reachable === true ? "reachable" : e.reachable === false ? `<span class="error-text">${esc(e.error || "unreachable")}</span>` : "not sampled yet"}</span></div></div>`).join("");
  const q = filters.text.trim().toLowerCase();
  const matching = jobs.filter(j => (!q || j.key.toLowerCase().includes(q)) && (!filters.env || j.env === filters.env) && (!filters.health || j.health === filters.health) && (!filters.state || j.state === filters.state))
    .map((j, i) => [rank(j), i, j]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(x => x[2]);
  const pages = Math.max(1, Math.ceil(matching.length / PAGE));
  filters.page = Math.min(filters.page, pages - 1);
  const shown = matching.slice(filters.page * PAGE, (filters.page + 1) * PAGE);
  const pager = matching.length > PAGE ? `<div class="pager" id="fleet-pager"><span class="muted">${filters.page * PAGE + 1}–${filters.page * PAGE + shown.length} of ${matching.length} jobs</span>
    <button class="small ghost" type="button" data-page="${filters.page - 1}"${filters.page === 0 ? " disabled" : ""}>‹ Previous</button>
    <button class="small ghost" type="button" data-page="${filters.page + 1}"${filters.page >= pages - 1 ? " disabled" : ""}>Next ›</button></div>` : "";
  const rows = shown.map(j => `<tr class="job-row" data-key="${esc(j.key)}" data-state="${esc(j.state)}">
    <td><a href="/jobs/${encodeURIComponent(j.env)}/${encodeURIComponent(j.job)}">${esc(j.job)}</a><div class="muted">${esc(j.env)}</div></td>
    <td>${badge(j.state)}${j.pending ? " " + badge(j.pending, "warn") : ""}<div class="muted">${esc(j.phase)}</div></td>
    <td>${badge(j.health)}</td>
    <td class="num">${fmtDur(j.uptime_ms)}</td>
    <td class="num">${esc(j.parallelism || "–")}</td>
    <td class="num tput">${fmtNum(j.records_in_per_s)}<span class="muted"> / </span>${fmtNum(j.records_out_per_s)}</td>
    <td class="num">${j.last_checkpoint_age_ms === null || j.last_checkpoint_age_ms === undefined ? "–" : fmtDur(j.last_checkpoint_age_ms)}</td>
    <td><span class="path mono" title="${esc(j.last_savepoint || "")}">${esc(shortPath(j.last_savepoint))}</span></td>
    <td title="${esc(j.alerts_firing.join(", "))}">${j.alerts_firing.length ? j.alerts_firing.map(a => tag(a, "bad")).join(" ") : '<span class="muted">none</span>'}</td></tr>`).join("");
  document.getElementById("fleet-table-box").innerHTML = shown.length ? `<table id="fleet-table"><thead><tr><th>Job</th><th>State</th><th>Health</th><th class="num">Uptime</th><th class="num">Parallelism</th><th class="num">Records / s in · out</th><th class="num">Checkpoint age</th><th>Last savepoint</th><th>Alerts</th></tr></thead><tbody>${rows}</tbody></table>${pager}`
    : `<div class="empty" id="fleet-empty">${jobs.length ? "No job matches the filters" : "This serve manages no job"}</div>`;
  window.flinkopsLastRenderMs = performance.now() - t0;
  return {rows: shown.length, matching: matching.length};
}

// ---- job page ----------------------------------------------------------------------------------

async function jobPage(env, job) {
  const base = `/api/v1/jobs/${encodeURIComponent(env)}/${encodeURIComponent(job)}`;
  let detail;
  try {
    detail = await api(base);
  } catch (e) {
    if (e.status === 404) {
      showMessage("Unknown job", `${e.message}. Check the address, or pick a job from the fleet.`);
      try {
        const f = await api("/api/v1/dashboard/fleet");
        const list = f.jobs.slice(0, 20).map(j => `<li><a href="/jobs/${encodeURIComponent(j.env)}/${encodeURIComponent(j.job)}">${esc(j.key)}</a></li>`).join("");
        document.getElementById("message").insertAdjacentHTML("beforeend", f.jobs.length ? `<p class="muted">Jobs this serve manages${f.jobs.length > 20 ? " (first 20 of " + f.jobs.length + ")" : ""}:</p><ul id="known-jobs">${list}</ul>` : `<p class="muted">This serve manages no job.</p>`);
      } catch (e2) { /* the message above stands */ }
      return;
    }
    if (document.getElementById("job")) setBanner(e.message); else showMessage("The job cannot be shown", e.message);
    schedule(() => jobPage(env, job));
    return;
  }
  const [live, hist] = await Promise.all([
    api(base + "/live").catch(e => ({error: e})),
    api(`/api/v1/dashboard/jobs/${encodeURIComponent(env)}/${encodeURIComponent(job)}`).catch(e => ({error: e})),
  ]);
  const problems = [];
  if (live.error) problems.push(live.error.status === 502 || live.error.status === 0 ? `Flink does not answer: ${live.error.message} — showing stored data` : live.error.message);
  if (hist.error) problems.push(`history: ${hist.error.message}`);
  setBanner(problems.join(" · "), true);
  renderJob(env, job, detail, live.error ? null : live, hist.error ? null : hist);
  updated();
  schedule(() => jobPage(env, job));
}

function renderJob(env, job, d, live, hist) {
  const j = d.job;
  const keep = {};
  document.querySelectorAll("[data-keep-scroll]").forEach(el => { keep[el.id] = el.scrollTop; });
  const series = (hist && hist.series) || {};
  const pts = n => series[n] || [];
  const cps = (live && live.checkpoints && live.checkpoints.history) || [];
  const cpPts = cps.filter(c => c.status === "COMPLETED" || c.status === "Completed").slice().reverse();
  const vertices = (live && live.vertices) || [];
  const hv = (hist && hist.vertices) || [];
  const webui = live && live.flink_web_ui;
  const scaling = (d.scalings || [])[0];
  const timelineKinds = {deploy: "info", upgrade: "info", rollback: "warn", recover: "bad", suspend: "warn", savepoint: "", delete_snapshot: ""};
  const events = (d.intents || []).map(i => ({at: i.created_at, kind: i.kind, state: i.state, text: i.reason + (i.error ? " — " + i.error : "")}))
    .concat((d.scalings || []).filter(s => s.applied).map(s => ({at: s.at, kind: "rescale", state: "done", text: s.summary})))
    .sort((a, b) => b.at - a.at);
  const lint = (hist && hist.lint) || {};
  const findings = lint.findings || [];
  const badKeys = new Set(findings.map(f => f.key).filter(Boolean));
  const snaps = d.snapshots || [];
  const uptime = live && live.state === "RUNNING" && live.start_time ? Date.now() - live.start_time : null;
  main.innerHTML = `<div id="job">
  <div class="crumbs"><a href="/">Fleet</a> / ${esc(env)}</div>
  <div class="jobhead"><h1>${esc(job)}</h1>${badge(j.state)} ${badge(j.health)} ${j.pending ? badge("pending " + j.pending, "warn") : ""}
    <span class="spacer"></span>
    ${webui ? `<a id="flink-ui-link" href="${esc(webui)}" target="_blank" rel="noopener">Open in Flink's Web UI ↗</a>` : `<span class="muted" id="flink-ui-link">Flink's Web UI: not reachable</span>`}
    <button id="btn-savepoint" type="button"${busyAction ? " disabled" : ""}>${busyAction ? "Working…" : "Savepoint now"}</button></div>
  <div class="stats">
    <div class="stat"><div class="v">${esc(j.phase)}</div><div class="l">Phase</div></div>
    <div class="stat"><div class="v">${fmtDur(uptime)}</div><div class="l">Uptime</div></div>
    <div class="stat"><div class="v">${esc(j.parallelism)}</div><div class="l">Parallelism</div></div>
    <div class="stat"><div class="v">${esc(j.running_version ?? "–")}${j.desired_version && j.desired_version !== j.running_version ? " → " + esc(j.desired_version) : ""}</div><div class="l">Spec version</div></div>
    <div class="stat"><div class="v" id="stat-in">${fmtNum(lastOf(pts("records_in_per_second")))}</div><div class="l">Records in / s</div></div>
    <div class="stat"><div class="v">${fmtNum(lastOf(pts("records_out_per_second")))}</div><div class="l">Records out / s</div></div>
    <div class="stat"><div class="v">${fmtNum(lastOf(pts("restarts")))}</div><div class="l">Restarts</div></div>
  </div>
  <div class="muted mono" style="margin:4px 0 14px">Flink job ${esc(j.flink_job_id || "–")}${j.error ? ` · <span class="error-text">${esc(j.error)}</span>` : ""}${j.waiting ? " · waiting: " + esc(j.waiting) : ""}</div>
  <div class="grid2">
    <div class="panel"><div class="head"><h2>Records per second</h2><span class="muted">into the sources, into the sinks</span></div>${lineChart("chart-records", [{name: "in", points: pts("records_in_per_second")}, {name: "out", points: pts("records_out_per_second")}], v => fmtNum(v))}</div>
    <div class="panel"><div class="head"><h2>Busy time per vertex</h2><span class="muted">ms/s, max over subtasks, pale 0 → red 1000</span></div>${heatMap("heatmap-busy", hv.map(v => ({name: v.name, points: v.busy})), 120)}
      <div class="head" style="margin-top:14px"><h2>Backpressured time per vertex</h2></div>${heatMap("heatmap-backpressure", hv.map(v => ({name: v.name, points: v.backpressured})), 50)}</div>
  </div>
  <div class="grid3">
    <div class="panel"><div class="head"><h2>Checkpoint duration</h2><span class="muted">Flink's history</span></div>${lineChart("chart-cp-duration", [{name: "end to end", points: cpPts.map(c => ({ts: c.at, value: c.duration_ms}))}], fmtMs, {bars: true, width: 400, height: 170, empty: "No completed checkpoint reported by Flink"})}</div>
    <div class="panel"><div class="head"><h2>Checkpoint size</h2></div>${lineChart("chart-cp-size", [{name: "checkpointed", color: COLORS[2], points: cpPts.map(c => ({ts: c.at, value: c.size}))}], fmtBytes, {bars: true, width: 400, height: 170, empty: "No completed checkpoint reported by Flink"})}</div>
    <div class="panel"><div class="head"><h2>Restarts</h2></div>${lineChart("chart-restarts", [{name: "restarts of the Flink job", color: COLORS[3], points: pts("restarts")}], v => fmtNum(v), {width: 400, height: 170, integer: true})}</div>
  </div>
  <div class="grid2">
    <div class="panel"><div class="head"><h2>Job graph</h2><span class="muted">parallelism per vertex; border colour: busy time</span></div>${jobGraph(live && live.plan, vertices)}</div>
    <div class="panel" id="scaling"><div class="head"><h2>Autoscaler</h2><span class="muted">latest decision</span></div>${scaling ? scalingView(scaling) : `<div class="empty">No decision yet</div>`}</div>
  </div>
  <div class="panel"><div class="head"><h2>Checkpoints and savepoints</h2><span class="spacer"></span><span class="muted">${snaps.length} in the catalog</span></div>
    <div class="scroll" id="snapshots-box" data-keep-scroll>${snaps.length ? `<table id="snapshots"><thead><tr><th>Kind</th><th>Status</th><th>Taken</th><th class="num">Size</th><th>Path</th><th></th></tr></thead><tbody>
    ${snaps.map(s => `<tr class="snapshot" data-kind="${esc(s.kind)}" data-path="${esc(s.path)}"><td>${badge(s.kind, s.kind === "savepoint" ? "info" : "")}${s.protected ? " " + badge("protected", "") : ""}</td><td>${badge(s.status)}</td><td>${esc(clock(s.created_at))}<div class="muted">${esc(ago(s.created_at))}</div></td><td class="num">${fmtBytes(s.size_bytes)}</td><td><span class="path mono" title="${esc(s.path)}">${esc(s.path)}</span></td>
      <td>${s.status === "completed" ? `<button class="small ghost restore" type="button" data-path="${esc(s.path)}">Restore from here</button>` : ""}</td></tr>`).join("")}</tbody></table>` : `<div class="empty">No checkpoint or savepoint yet</div>`}</div></div>
  <div class="grid2">
    <div class="panel"><div class="head"><h2>Timeline</h2><span class="muted">from the audit log</span></div>${events.length ? `<ul class="timeline" id="timeline" data-keep-scroll>${events.map(e => `<li class="event" data-kind="${esc(e.kind)}"><span class="muted">${esc(clock(e.at))}</span><span>${badge(e.kind, timelineKinds[e.kind] ?? "info")}</span><span>${badge(e.state)} ${esc(e.text)}</span></li>`).join("")}</ul>` : `<div class="empty" id="timeline">Nothing recorded yet</div>`}</div>
    <div class="panel" id="config"><div class="head"><h2>Effective Flink configuration</h2><span class="spacer"></span>${findings.length ? badge(findings.length + " finding" + (findings.length > 1 ? "s" : ""), "warn") : badge("lint clean", "ok")}</div>
      ${lint.error ? `<p class="error-text">Lint: ${esc(lint.error)}</p>` : ""}
      ${findings.length ? `<ul class="findings">${findings.map(f => `<li>${badge(f.severity, f.severity === "error" ? "bad" : f.severity === "warning" ? "warn" : "info")} <code>${esc(f.key || "")}</code> ${esc(f.message)}${f.suggestion ? ` <span class="muted">— ${esc(f.suggestion)}</span>` : ""}</li>`).join("")}</ul>` : ""}
      <div class="scroll" id="config-box" data-keep-scroll><table><tbody>${Object.entries(d.config || {}).map(([k, v]) => `<tr class="${badKeys.has(k) ? "cfg-bad" : ""}"><td class="mono">${esc(k)}</td><td class="mono">${esc(v)}</td></tr>`).join("") || `<tr><td class="muted">No job-level settings</td></tr>`}</tbody></table></div></div>
  </div></div>`;
  Object.entries(keep).forEach(([id, top]) => { const el = document.getElementById(id); if (el) el.scrollTop = top; });
  document.getElementById("btn-savepoint").addEventListener("click", () => savepointNow(env, job));
  document.querySelectorAll("button.restore").forEach(b => b.addEventListener("click", () => restoreFrom(env, job, b.dataset.path)));
}

function lastOf(points) { return points.length ? points[points.length - 1].value : null; }

function scalingView(s) {
  const nums = [];
  const walk = (o, prefix) => {
    if (o === null || typeof o !== "object" || nums.length > 24) return;
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") nums.push([prefix + k, v]);
      else if (v && typeof v === "object" && !Array.isArray(v)) walk(v, prefix + k + ".");
    }
  };
  walk(s.decision, "");
  return `<p>${badge(s.applied ? "applied" : "not applied", s.applied ? "ok" : "")} ${esc(clock(s.at))} — ${esc(s.summary)}</p>
    <table><tbody>${nums.map(([k, v]) => `<tr><td class="mono">${esc(k)}</td><td class="num">${esc(typeof v === "number" ? fmtNum(v, 2) : v)}</td></tr>`).join("")}</tbody></table>`;
}

async function savepointNow(env, job) {
  if (busyAction) return;
  if (!(await confirmAction("Savepoint now", `Take a savepoint of ${env}/${job} now? The job keeps running.`, "Take savepoint"))) return;
  busyAction = true;
  const b = document.getElementById("btn-savepoint");
  if (b) { b.disabled = true; b.textContent = "Taking savepoint…"; }
  flash(`Taking a savepoint of ${env}/${job}…`, "", true);
  const r = await act(`/api/v1/jobs/${encodeURIComponent(env)}/${encodeURIComponent(job)}/savepoint`, null, "Savepoint");
  busyAction = false;
  if (r) flash(`Savepoint taken: ${r.savepoint || r.message}`, "ok");
  jobPage(env, job);
}

async function restoreFrom(env, job, path) {
  if (busyAction) return;
  if (!(await confirmAction("Restore from here", `Restart ${env}/${job} from ${path}? The running job is stopped with a savepoint first, then started again from this snapshot.`, "Restore"))) return;
  busyAction = true;
  flash(`Restoring ${env}/${job} from ${path}…`, "", true);
  const r = await act(`/api/v1/jobs/${encodeURIComponent(env)}/${encodeURIComponent(job)}/restore`, {path}, "Restore");
  busyAction = false;
  if (r) flash(`Restore: ${r.message}`, "ok");
  jobPage(env, job);
}

// ---- alerts page -------------------------------------------------------------------------------

async function alertsPage() {
  try {
    const a = await api("/api/v1/alerts");
    setBanner("");
    const order = {firing: 0, pending: 1, resolved: 2};
    const alerts = a.alerts.slice().sort((x, y) => (order[x.status] - order[y.status]) || (y.since - x.since));
    const firing = alerts.filter(x => x.status === "firing").length;
    main.innerHTML = `<div id="alerts"><h1>Alerts</h1><div class="muted">${firing} firing · ${alerts.length - firing} pending or resolved</div>
    <div class="panel" style="margin-top:14px"><div class="head"><h2>Alerts</h2></div>${alerts.length ? `<table id="alerts-table"><thead><tr><th>Status</th><th>Severity</th><th>Job</th><th>Rule</th><th>Since</th><th>Summary</th></tr></thead><tbody>
      ${alerts.map(x => `<tr class="alert-row" data-status="${esc(x.status)}"><td>${badge(x.status)}</td><td>${badge(x.severity, x.severity === "critical" ? "bad" : x.severity === "warning" ? "warn" : "info")}</td><td><a href="/jobs/${x.job.split("/").map(encodeURIComponent).join("/")}">${esc(x.job)}</a></td><td class="mono">${esc(x.rule)}</td><td>${esc(clock(x.since))}<div class="muted">${esc(ago(x.since))}</div></td><td>${esc(x.summary)}</td></tr>`).join("")}</tbody></table>` : `<div class="empty">No alert has fired</div>`}</div>
    <div class="panel"><div class="head"><h2>Channel deliveries</h2><span class="muted">newest first</span></div>${a.deliveries.length ? `<table id="deliveries-table"><thead><tr><th>At</th><th>Result</th><th>Channel</th><th>Job</th><th>Rule</th><th>Notification</th><th class="num">Attempts</th><th>Error</th></tr></thead><tbody>
      ${a.deliveries.map(x => `<tr><td>${esc(clock(x.at))}</td><td>${x.ok ? badge("delivered", "ok") : badge("failed", "bad")}</td><td>${esc(x.channel)} <span class="muted">${esc(x.kind)}</span></td><td>${esc(x.job)}</td><td class="mono">${esc(x.rule)}</td><td>${badge(x.status)}</td><td class="num">${esc(x.attempts)}</td><td class="error-text">${esc(x.error || "")}</td></tr>`).join("")}</tbody></table>` : `<div class="empty">No notification sent yet</div>`}</div></div>`;
    updated();
  } catch (e) {
    if (document.getElementById("alerts")) setBanner(e.message); else showMessage("The alerts cannot be shown", e.message);
  }
  schedule(alertsPage, 2 * REFRESH_MS);
}

// ---- routing -----------------------------------------------------------------------------------

function route() {
  const p = location.pathname;
  document.querySelectorAll("[data-nav]").forEach(a => a.classList.toggle("active", (a.dataset.nav === "alerts") === (p === "/alerts") && !p.startsWith("/jobs/")));
  tokenButton();
  document.getElementById("token-button").addEventListener("click", () => askToken());
  const m = p.match(/^\/jobs\/([^/]+)\/([^/]+)\/?$/);
  if (m) { jobPage(decodeURIComponent(m[1]), decodeURIComponent(m[2])); document.title = `${decodeURIComponent(m[2])} · flinkops`; return; }
  if (p === "/alerts") { alertsPage(); document.title = "Alerts · flinkops"; return; }
  if (p === "/" || p === "") { fleetPage(); document.title = "Fleet · flinkops"; return; }
  showMessage("No such page", `${p} is not a dashboard page.`);
}

window.flinkopsRenderFleet = renderFleet;
route();
