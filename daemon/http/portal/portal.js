// BenchSight admin page: calls the old BenchSight API's routes the way the league's portal does (same
// request bodies, same polling of /status/{job_id}), served by the API itself, so it runs same-origin.
"use strict";

const params = new URLSearchParams(location.search);
const POLL_MS = Number(params.get("poll") || 2000);
const ENDED = ["completed", "failed", "cancelled"];
const $ = (id) => document.getElementById(id);

function log(text, level = "") {
  const item = document.createElement("li");
  item.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  if (level) item.className = level;
  $("log").appendChild(item);
  $("log").scrollTop = $("log").scrollHeight;
}

// Every call: JSON in, JSON out; an error answer throws its `detail` sentence.
async function call(path, method = "GET", body = undefined) {
  const init = { method, headers: { "Content-Type": "application/json" } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({ detail: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(data.detail || `HTTP ${response.status}`);
  return { data, response };
}

function ids(text) {
  const list = text.split(",").map((s) => parseInt(s.trim(), 10)).filter((n) => !Number.isNaN(n));
  return list.length ? list : null;
}

function starting(prefix) {
  lastSaid[prefix] = null;
  $(`${prefix}-badge`).textContent = "starting";
  $(`${prefix}-badge`).className = "badge pending";
  $(`${prefix}-bar`).style.width = "0%";
}

function show(prefix, job) {
  const badge = $(`${prefix}-badge`);
  badge.textContent = job.status;
  badge.className = `badge ${job.status}`;
  if (typeof job.progress === "number") $(`${prefix}-bar`).style.width = `${job.progress}%`;
  const count = $(prefix === "sync" ? "sync-tables-done" : `${prefix}-tables`);
  if (Number.isInteger(job.tables_created)) count.textContent = String(job.tables_created);
  const said = lastSaid[prefix] || { step: null, errors: 0 };
  if (job.current_step && job.current_step !== said.step) log(`[${prefix}] ${job.current_step}`);
  for (const err of (job.errors || []).slice(said.errors)) log(`[${prefix}] ${err}`, "error");
  lastSaid[prefix] = { step: job.current_step, errors: (job.errors || []).length };
}

const lastSaid = {};  // per panel: the step and error count already logged, so polling does not repeat them

// Poll a job's status route until it ends; resolves with the last answer.
function follow(prefix, statusPath, jobId) {
  return new Promise((resolve) => {
    const tick = async () => {
      try {
        const { data } = await call(`${statusPath}/${jobId}`);
        show(prefix, data);
        if (ENDED.includes(data.status)) { resolve(data); return; }
      } catch (err) {
        log(`[${prefix}] status: ${err.message}`, "error");
      }
      timers[prefix] = setTimeout(tick, POLL_MS);
    };
    tick();
  });
}

const timers = {};
let etlJob = null;

async function runEtl() {
  starting("etl");
  const body = {
    mode: $("etl-mode").value,
    game_ids: ids($("etl-games").value),
    exclude_game_ids: ids($("etl-exclude").value),
    source: $("etl-source").value,
  };
  if (!$("etl-no-options").checked) {
    body.options = { wipe: $("etl-clean").checked, validate: $("etl-validate").checked,
                     upload_to_supabase: $("etl-sync").checked };
  }
  try {
    const { data } = await call("/api/etl/trigger", "POST", body);
    etlJob = data.job_id;
    log(`[etl] job ${etlJob} ${data.status}`);
    show("etl", data);
    $("etl-stop").disabled = false;
    await follow("etl", "/api/etl/status", etlJob);
  } catch (err) {
    log(`[etl] ${err.message}`, "error");
    $("etl-badge").textContent = "error";
    $("etl-badge").className = "badge error";
  }
  $("etl-stop").disabled = true;
}

async function stopEtl() {
  if (!etlJob) return;
  try {
    const { data } = await call(`/api/etl/cancel/${etlJob}`, "POST");
    log(`[etl] cancel: ${data.status}${data.cancel_requested ? " (stopping)" : ""}`, "error");
  } catch (err) {
    log(`[etl] cancel: ${err.message}`, "error");
  }
}

async function runSchema() {
  starting("schema");
  try {
    const { data } = await call("/api/upload/generate-schema", "POST", { options: {} });
    log(`[schema] job ${data.job_id}`);
    await follow("schema", "/api/upload/status", data.job_id);
  } catch (err) {
    log(`[schema] ${err.message}`, "error");
  }
}

async function runSync() {
  starting("sync");
  const text = $("sync-tables").value.trim();
  const tables = text ? text.split(",").map((t) => t.trim()).filter(Boolean) : null;
  try {
    const { data } = await call("/api/upload/to-supabase", "POST",
      { tables, mode: $("sync-mode").value, options: { clean: $("sync-clean").checked } });
    log(`[sync] job ${data.job_id} (${$("sync-mode").value})`);
    await follow("sync", "/api/upload/status", data.job_id);
  } catch (err) {
    log(`[sync] ${err.message}`, "error");
  }
}

let nextPage = null;

async function loadHistory(more = false) {
  const path = more && nextPage ? nextPage : "/api/etl/history?limit=10";
  try {
    const { data, response } = await call(path);
    const link = response.headers.get("Link") || "";
    const match = link.match(/<([^>]+)>;\s*rel="next"/);
    nextPage = match ? match[1] : null;
    $("history-more").disabled = !nextPage;
    const rows = $("history-rows");
    if (!more) rows.textContent = "";
    for (const job of data) {
      const tr = document.createElement("tr");
      for (const value of [new Date(job.created_at).toLocaleTimeString(), job.kind, job.status,
                           `${job.progress}%`, job.tables_created ?? "", job.current_step ?? ""]) {
        const td = document.createElement("td");
        td.textContent = String(value);
        tr.appendChild(td);
      }
      tr.dataset.status = job.status;
      rows.appendChild(tr);
    }
    log(`[history] ${data.length} jobs`);
  } catch (err) {
    log(`[history] ${err.message}`, "error");
  }
}

async function checkHealth() {
  try {
    const { data } = await call("/api/health/status");
    $("health").textContent = `${data.status} ${data.version}`;
    $("health").className = `badge ${data.status}`;
  } catch (err) {
    $("health").textContent = "unreachable";
    $("health").className = "badge error";
  }
}

$("etl-run").addEventListener("click", runEtl);
$("etl-stop").addEventListener("click", stopEtl);
$("schema-run").addEventListener("click", runSchema);
$("sync-run").addEventListener("click", runSync);
$("history-load").addEventListener("click", () => loadHistory(false));
$("history-more").addEventListener("click", () => loadHistory(true));
checkHealth();
loadHistory();
