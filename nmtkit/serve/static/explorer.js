// nmtkit attention explorer: plain JS, no build step, no network beyond this server.
"use strict";

const $ = (id) => document.getElementById(id);
const LOW = [247, 251, 255];
const HIGH = [8, 48, 107];

// The colour scale runs from 0 to the largest weight of the matrix (labelled in the legend), so
// a model whose attention is still diffuse shows its structure instead of a pale grey block.
let scaleMax = 1;

function colour(w) {
  const t = Math.max(0, Math.min(1, w / scaleMax));
  const c = LOW.map((lo, i) => Math.round(lo + (HIGH[i] - lo) * t));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

function status(text, isError) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

async function translate(event) {
  event.preventDefault();
  const text = $("source").value.trim();
  if (!text) { status("Type a sentence first.", true); return; }
  const body = {
    text: [text], beam: Number($("beam").value) || 1, nbest: Number($("nbest").value) || 0,
    alignment: true, attention: true,
  };
  const headers = { "Content-Type": "application/json" };
  if ($("apikey").value) headers.Authorization = `Bearer ${$("apikey").value}`;
  $("go").disabled = true;
  status("Translating…");
  try {
    const response = await fetch("/v1/translate", {
      method: "POST", headers, body: JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok) {
      if (response.status === 401) $("keybox").hidden = false;
      status(`${response.status}: ${answer.message}`, true);
      return;
    }
    show(answer.translations[0]);
    status("");
  } catch (err) {
    status(`Request failed: ${err}`, true);
  } finally {
    $("go").disabled = false;
  }
}

function show(item) {
  $("result").hidden = false;
  $("translation").textContent = item.text;
  $("score").textContent = `score ${item.score.toFixed(4)}`;
  const list = $("nbest-list");
  list.replaceChildren();
  list.hidden = !item.nbest;
  (item.nbest || []).forEach((hyp, i) => {
    const li = document.createElement("li");
    li.textContent = `${hyp.text}  (${hyp.score.toFixed(4)})`;
    if (i === 0) li.className = "active";
    list.append(li);
  });
  heatmap(item.attention, item.alignment || []);
}

function heatmap(attn, alignment) {
  const table = $("heatmap");
  table.replaceChildren();
  const weights = attn.weights;
  scaleMax = Math.max(1e-6, ...weights.flat());
  $("legend-max").textContent = scaleMax.toFixed(2);
  const head = table.createTHead().insertRow();
  head.append(document.createElement("th"));
  attn.source_pieces.forEach((piece, c) => {
    const th = document.createElement("th");
    th.dataset.col = c;
    th.className = "src";
    const span = document.createElement("span");
    span.textContent = piece;
    th.append(span);
    head.append(th);
  });
  const hard = new Set(alignment.map(([s, t]) => `${t},${s}`));
  const body = table.createTBody();
  attn.target_pieces.forEach((piece, r) => {
    const row = body.insertRow();
    const th = document.createElement("th");
    th.textContent = piece;
    th.dataset.row = r;
    th.className = "tgt";
    row.append(th);
    weights[r].forEach((w, c) => {
      const td = row.insertCell();
      td.dataset.row = r;
      td.dataset.col = c;
      td.dataset.weight = w;
      td.style.background = colour(w);
      td.textContent = w.toFixed(2);
      td.title = `${piece} ← ${attn.source_pieces[c]}: ${w.toFixed(3)}`;
      if (hard.has(`${r},${c}`)) td.dataset.hard = "1";
    });
  });
  table.onmouseover = (e) => hover(e.target.closest("td, th"), weights);
  table.onmouseleave = () => clear();
  applyHard();
}

function paint(th, w) {
  th.style.background = colour(w);
  th.classList.toggle("hl", w > 0.5 * scaleMax);  // white text on the darker half
  th.dataset.attention = w.toFixed(4);
}

function clear() {
  document.querySelectorAll("#heatmap th").forEach((th) => {
    th.style.background = "";
    th.classList.remove("hl");
    delete th.dataset.attention;
  });
  document.querySelectorAll("#heatmap td.focus").forEach((td) => td.classList.remove("focus"));
}

// A target piece shows what it attended to; a source piece, who attended to it; a cell, both.
function hover(el, weights) {
  clear();
  if (!el) return;
  const row = el.dataset.row === undefined ? null : Number(el.dataset.row);
  const col = el.dataset.col === undefined ? null : Number(el.dataset.col);
  if (row !== null) {
    document.querySelectorAll("#heatmap th.src").forEach((th) => {
      paint(th, weights[row][Number(th.dataset.col)]);
    });
  }
  if (col !== null) {
    document.querySelectorAll("#heatmap th.tgt").forEach((th) => {
      paint(th, weights[Number(th.dataset.row)][col]);
    });
  }
  if (el.tagName === "TD") el.classList.add("focus");
}

function applyHard() {
  const on = $("hard").checked;
  document.querySelectorAll("#heatmap td").forEach((td) => {
    td.classList.toggle("hard", on && td.dataset.hard === "1");
  });
}

$("form").addEventListener("submit", translate);
$("hard").addEventListener("change", applyHard);
