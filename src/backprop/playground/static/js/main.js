// The page: one WebSocket to the server, the controls, and a paint loop that draws the newest
// frame once per animation frame (frames that arrive faster are replaced, never queued).

import { LineChart } from "./charts.js";
import { BLUE, ORANGE, classColor, css } from "./colors.js";
import { setupControls, showState } from "./controls.js";
import { parseFrame } from "./frame.js";
import { OutputView } from "./heatmap.js";
import { NetworkView } from "./network.js";

const $ = (id) => document.getElementById(id);

const app = {
  ws: null,
  state: null,
  data: null,
  pending: null, // the newest frame not yet painted
  frame: null, // the frame on screen
  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
    else notify("Not connected to the playground server.", "error");
  },
  change(changes) { this.send({ type: "config", changes }); },
};

// What tests and the benchmark read (nothing here steers the page).
const stats = {
  framesReceived: 0, framesPainted: 0, drawMs: 0, errors: [], messages: [],
  get state() { return app.state; },
  get header() { return app.frame && app.frame.header; },
  get output() { return app.frame && Array.from(app.frame.arrays.output); },
  get canvasesPainted() { return output.painted && network.painted; },
  /** Where the network's biases and links are drawn, in page coordinates. */
  layout() { return network.positions(); },
  /** The value on screen of W⁽ˡ⁾[i, j] (kind "W") or b⁽ˡ⁾[j] (kind "b"). */
  param(l, kind, i, j) {
    return kind === "W" ? network.params.weight(l, i, j) : network.params.bias(l, j);
  },
};
window.playground = stats;

const output = new OutputView($("output"));
const lossChart = new LineChart($("loss-chart"), { colors: [[150, 150, 150], [34, 34, 34]],
  widths: [1.2, 2] });
const GRAD_COLOURS = [[8, 119, 189], [245, 147, 34], [44, 160, 44], [214, 39, 40],
  [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127], [23, 190, 207]];
const gradChart = new LineChart($("grad-chart"), { log: true, colors: GRAD_COLOURS });
const network = new NetworkView($("network"), $("tooltip"), {
  toggleFeature(name) {
    const features = app.state.config.features.includes(name)
      ? app.state.config.features.filter((f) => f !== name)
      : [...app.state.config.features, name];
    app.change({ features });
  },
  edit(change) { app.send({ type: "set_param", ...change }); },
  layerControls(xs) { placeLayerControls(xs); },
});

// -- messages from the server -------------------------------------------------------------
function connect() {
  const ws = new WebSocket(`ws://${location.host}/ws`);
  ws.binaryType = "arraybuffer";
  app.ws = ws;
  ws.onopen = () => ws.send(JSON.stringify({ type: "hello", hash: location.hash }));
  ws.onmessage = (event) => {
    if (typeof event.data !== "string") {
      stats.framesReceived++;
      const frame = parseFrame(event.data);
      if (!app.pending || frame.header.generation >= app.pending.header.generation) {
        app.pending = frame;
      }
      return;
    }
    const message = JSON.parse(event.data);
    stats.messages.push(message.type);
    if (stats.messages.length > 200) stats.messages.splice(0, 100);
    handlers[message.type]?.(message);
  };
  ws.onclose = () => {
    notify("The connection to the playground server was lost; retrying. Is "
      + "`backprop playground` still running?", "error");
    setTimeout(connect, 2000);
  };
}

const handlers = {
  state(message) {
    const previous = app.state;
    app.state = message;
    if (!previous || previous.generation !== message.generation) {
      lossChart.reset();
      gradChart.reset();
      gradLegend(message.layers.length);
    }
    history.replaceState(null, "", `#${message.hash}`);
    showState(app, message);
    network.setState(message);
    legend(message);
    $("play").classList.toggle("playing", message.playing);
  },
  data(message) {
    app.data = message;
    output.setData(message);
  },
  error(message) {
    stats.errors.push(message.message);
    notify(message.message, message.level || "error");
  },
  csv(message) {
    notify(`Read ${message.name}: ${message.rows} rows, ${message.columns.length} columns.`,
      "info");
  },
  export(message) {
    const bytes = Uint8Array.from(atob(message.model), (c) => c.charCodeAt(0));
    download(new Blob([bytes], { type: "application/octet-stream" }), message.filename);
    $("export-file").textContent = message.filename;
    $("snippet").value = message.snippet;
    $("snippet").dataset.filename = message.snippet_filename;
    $("export-dialog").showModal();
  },
  explain(message) {
    $("explain-note").textContent = message.note;
    $("explain-text").replaceChildren(...markdown(message.markdown));
    $("explain-dialog").showModal();
  },
};

// -- painting -----------------------------------------------------------------------------
function paint() {
  const frame = app.pending;
  if (frame && app.state && frame.header.generation <= app.state.generation) {
    app.pending = null;
    if (frame.header.generation === app.state.generation) {
      app.frame = frame;
      const start = performance.now();
      draw(frame);
      stats.drawMs += performance.now() - start;
      stats.framesPainted++;
    }
  }
  requestAnimationFrame(paint);
}

function draw(frame) {
  const h = frame.header;
  $("epoch").textContent = String(h.epoch).padStart(6, "0").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fmt = (v) => (v == null ? "\u2013" : v.toFixed(3));
  const pct = (v) => (v == null ? "\u2013" : `${(100 * v).toFixed(1)}%`);
  $("train-loss").textContent = fmt(h.train_loss);
  $("test-loss").textContent = fmt(h.test_loss);
  $("train-acc").textContent = pct(h.train_accuracy);
  $("test-acc").textContent = pct(h.test_accuracy);
  document.querySelectorAll(".acc").forEach((el) => el.classList.toggle("hidden",
    h.train_accuracy == null));
  $("play").classList.toggle("playing", h.playing);
  const options = { discretize: $("discretize").checked, showTest: $("show-test").checked };
  output.paint(frame, options);
  network.paint(frame);
  lossChart.add(h.epoch, [h.train_loss, h.test_loss]);
  lossChart.paint();
  if (h.grad_norms.some((g) => g != null)) gradChart.add(h.epoch, h.grad_norms);
  gradChart.paint();
  findings(h.findings, h.findings_kind, h.epoch);
}

function findings(list, kind, epoch) {
  const ul = $("findings");
  $("doctor-caption").textContent = kind === "live"
    ? "Noticed while training (each at the epoch first seen); pause for the diagnosis."
    : kind === "diagnosis" ? `Diagnosis of the run up to epoch ${epoch}.` : "";
  const key = JSON.stringify(list);
  if (ul.dataset.key === key) return;
  ul.dataset.key = key;
  ul.replaceChildren();
  if (!list || !list.length) {
    const li = document.createElement("li");
    li.className = "quiet";
    li.textContent = list ? "No findings: training looks healthy."
      : "Nothing to diagnose before the network trains.";
    ul.append(li);
  }
  for (const f of list || []) {
    const li = document.createElement("li");
    li.className = f.severity;
    const code = document.createElement("span");
    code.className = "code";
    code.textContent = f.code.replaceAll("_", " ");
    const advice = document.createElement("div");
    advice.className = "advice";
    advice.textContent = f.advice;
    const when = f.epoch != null ? ` (epoch ${f.epoch})` : "";
    li.append(code, document.createTextNode(`${when}: ${f.message}`), advice);
    ul.append(li);
  }
}

function legend(state) {
  const el = $("legend");
  el.replaceChildren();
  if (state.task === "regression") {
    const bar = document.createElement("span");
    bar.className = "bar";
    el.append("low ", bar, " high");
    return;
  }
  const names = state.classes.length ? state.classes : ["0", "1"];
  names.forEach((name, k) => {
    const item = document.createElement("span");
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = css(state.task === "binary" ? [ORANGE, BLUE][k] : classColor(k));
    item.append(sw, `class ${name}`);
    el.append(item);
  });
}

function gradLegend(layers) {
  const el = $("grad-legend");
  el.replaceChildren();
  for (let k = 0; k < layers; k++) {
    const item = document.createElement("span");
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = css(GRAD_COLOURS[k % GRAD_COLOURS.length]);
    item.append(sw, k === layers - 1 ? "output" : `layer ${k + 1}`);
    el.append(item);
  }
}

function placeLayerControls(xs) {
  const holder = $("layer-controls");
  const spacing = xs.length > 1 ? xs[1] - xs[0] : 120;
  const width = Math.max(40, Math.min(96, spacing - 6));
  Array.from(holder.children).forEach((el, k) => {
    el.style.left = `${xs[k] ?? 0}px`;
    el.style.width = `${width}px`;
    el.querySelector("select").style.maxWidth = `${width - 2}px`;
  });
}

// -- helpers ------------------------------------------------------------------------------
/** The few Markdown forms explain_step writes (headings, bold, pipe tables, paragraphs) as
 * DOM nodes; text goes in as text, never as HTML. */
function markdown(text) {
  const nodes = [];
  let table = null;
  const inline = (el, line) => {
    line.split(/(\*\*[^*]+\*\*)/).forEach((part) => {
      if (part.startsWith("**") && part.endsWith("**") && part.length > 4) {
        const b = document.createElement("b");
        b.textContent = part.slice(2, -2);
        el.append(b);
      } else if (part) el.append(part);
    });
    return el;
  };
  for (const line of text.split("\n")) {
    if (line.startsWith("|")) {
      const cells = line.slice(1, line.endsWith("|") ? -1 : undefined).split("|")
        .map((c) => c.trim());
      if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
      if (!table) { table = document.createElement("table"); nodes.push(table); }
      const tr = document.createElement("tr");
      cells.forEach((c, k) => {
        const cell = document.createElement(table.rows.length === 0 || k === 0 ? "th" : "td");
        cell.textContent = c;
        tr.append(cell);
      });
      table.append(tr);
      continue;
    }
    table = null;
    if (!line.trim()) continue;
    const heading = line.match(/^(#{1,4}) (.*)$/);
    if (heading) {
      nodes.push(inline(document.createElement(`h${Math.min(6, heading[1].length + 1)}`),
        heading[2]));
    } else {
      nodes.push(inline(document.createElement("p"), line));
    }
  }
  return nodes;
}

export function notify(text, level = "error") {
  const box = document.createElement("div");
  box.className = `message ${level}`;
  const close = document.createElement("button");
  close.textContent = "\u00D7";
  close.onclick = () => box.remove();
  box.append(close, text);
  $("messages").append(box);
  while ($("messages").children.length > 4) $("messages").firstChild.remove();
  setTimeout(() => box.remove(), level === "info" ? 5000 : 12000);
}

function download(blob, filename) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

window.addEventListener("hashchange", () => {
  if (app.state && location.hash.slice(1) !== app.state.hash) {
    app.send({ type: "hello", hash: location.hash });
  }
});

$("download-snippet").onclick = () => download(new Blob([$("snippet").value],
  { type: "text/x-python" }), $("snippet").dataset.filename || "playground.py");
$("copy-snippet").onclick = () => navigator.clipboard?.writeText($("snippet").value);
$("close-export").onclick = () => $("export-dialog").close();
$("close-explain").onclick = () => $("explain-dialog").close();
$("discretize").onchange = () => { app.change({ discretize: $("discretize").checked }); redraw(); };
$("show-test").onchange = () => { app.change({ show_test: $("show-test").checked }); redraw(); };

function redraw() {
  if (app.frame) {
    output.paint(app.frame, { discretize: $("discretize").checked,
      showTest: $("show-test").checked });
  }
}

setupControls(app, notify);
connect();
requestAnimationFrame(paint);
