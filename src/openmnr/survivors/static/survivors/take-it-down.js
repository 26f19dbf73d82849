// The Take it down page: pick pictures and videos, fingerprint them here, send only the hashes.
//
// The files stay in this page: their thumbnails are blob: URLs (never sent), the fingerprinting
// runs in workers (hashing.js), and the only request this script makes is one JSON POST of hashes
// and the person's answers. The file input has no name and sits in no form, so the browser itself
// has nothing to upload either.

import { Fingerprinter } from "./hashing.js";
import { QUALITY_THRESHOLD } from "./pdq.js";

const tool = document.getElementById("tool");
const text = tool.dataset;
const picker = document.getElementById("picker");
const list = document.getElementById("files");
const form = document.getElementById("send");
const problem = document.getElementById("problem");
const blurToggle = document.getElementById("blur-toggle");
const sendButton = document.getElementById("send-button");
const pool = new Fingerprinter();
const entries = [];

tool.hidden = false;

picker.addEventListener("change", () => {
  for (const file of picker.files) add(file);
  picker.value = "";
});

blurToggle.addEventListener("click", () => {
  const blurred = list.classList.toggle("blurred");
  blurToggle.textContent = blurred ? text.show : text.hide;
  blurToggle.setAttribute("aria-pressed", String(!blurred));
});

function element(tag, attributes = {}, content = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (content) node.textContent = content;
  return node;
}

function add(file) {
  const entry = { file, url: URL.createObjectURL(file), state: "working", result: null };
  const video = file.type.startsWith("video/");
  const thumb = element(video ? "video" : "img", { class: "thumb", src: entry.url, alt: "" });
  if (video) Object.assign(thumb, { muted: true, playsInline: true, preload: "metadata" });
  const state = element("p", { class: "state" }, text.working);
  const progress = element("progress", { max: "1", value: "0" });
  const remove = element("button", { type: "button" }, text.remove);
  const details = element("div");
  details.append(element("p", { class: "name" }, file.name), state, progress);
  entry.row = element("li");
  entry.row.append(thumb, details, remove);
  remove.setAttribute("aria-label", `${text.remove}: ${file.name}`);
  remove.addEventListener("click", () => forget(entry));
  list.append(entry.row);
  blurToggle.hidden = false;
  entries.push(entry);
  pool.hash(file, (fraction) => { progress.value = fraction; }).then(
    (result) => {
      entry.state = "ready";
      entry.result = result;
      entry.row.className = "ready";
      progress.remove();
      if (result.kind === "video") state.textContent = text.videoReady;
      else state.textContent = result.pdqQuality < QUALITY_THRESHOLD ? text.exactOnly : text.ready;
    },
    (error) => {
      entry.state = "error";
      entry.row.className = "error";
      progress.remove();
      const messages = { unsupported: text.unsupported, too_large: text.tooLarge };
      state.textContent = messages[error.code] || text.unreadable;
    },
  );
}

function forget(entry) {
  entry.row.remove();
  URL.revokeObjectURL(entry.url);
  entries.splice(entries.indexOf(entry), 1);
  if (!entries.length) blurToggle.hidden = true;
}

function show(message) {
  problem.textContent = message;
  problem.hidden = !message;
  if (message) problem.focus();
}

function payloadItem({ result }) {
  const item = { kind: result.kind, md5: result.md5, sha256: result.sha256 };
  if (result.pdq) Object.assign(item, { pdq: result.pdq, pdq_quality: result.pdqQuality });
  return item;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  show("");
  if (entries.some((entry) => entry.state === "working")) return show(text.stillWorking);
  const ready = entries.filter((entry) => entry.state === "ready");
  if (!ready.length) return show(text.needFiles);
  const adding = Boolean(text.addCode);
  const body = { items: ready.map(payloadItem) };
  if (adding) {
    body.code = text.addCode;
  } else {
    const pictured = form.elements.pictured.checked;
    const under18 = form.elements.under_18.checked;
    if (!pictured || !under18) return show(text.needConfirm);
    Object.assign(body, { pictured, under_18: under18, email: form.elements.email?.value.trim() || "" });
  }
  sendButton.disabled = true;
  sendButton.textContent = text.sending;
  let response;
  let answer;
  try {
    response = await fetch(adding ? text.addUrl : text.openUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": form.elements.csrfmiddlewaretoken.value },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    answer = await response.json();
  } catch {
    answer = null;
  }
  sendButton.disabled = false;
  sendButton.textContent = sendButton.dataset.label || sendButton.textContent;
  if (!response || !answer) return show(text.network);
  if (!response.ok) return show(answer.detail || text.network);
  done(answer);
});
sendButton.dataset.label = sendButton.textContent;

function done(answer) {
  for (const entry of [...entries]) forget(entry);
  pool.close();
  tool.hidden = true;
  const panel = document.getElementById("done");
  const code = document.getElementById("case-code");
  if (code) code.textContent = answer.code;
  const summary = document.getElementById("summary");
  const items = answer.items;
  const rows = [
    [text.summaryActive, items.filter((i) => i.state === "active").length],
    [text.summaryHeld, items.filter((i) => i.state === "held").length],
    [text.summaryExact, items.filter((i) => i.pdq_refused).length],
    [text.summaryDuplicates, answer.duplicates],
  ];
  for (const [label, count] of rows) {
    if (!count && label !== text.summaryActive) continue;
    summary.append(element("dt", {}, label), element("dd", {}, String(count)));
  }
  panel.hidden = false;
  panel.focus();
}
