// The controls: each sends a change to the server, and each shows the server's state (the
// server checks every value; the page never keeps a setting the server refused).

import { classColor, css, diverging } from "./colors.js";

const $ = (id) => document.getElementById(id);
const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const L2_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const DROPOUTS = [0, 0.1, 0.2, 0.3, 0.5];
const LOSS_LABELS = { cross_entropy: "Cross-entropy", mse: "Squared error (\u00BD\u00B7mean)",
  mae: "Absolute error", huber: "Huber" };
const DATASET_LABELS = { circle: "Circle", xor: "Exclusive or", gauss: "Gaussian",
  spiral: "Spiral", moons: "Moons", "reg-plane": "Plane", "reg-gauss": "Multi Gaussian" };

function options(select, values, label = (v) => String(v), current = undefined) {
  const list = current !== undefined && !values.includes(current) ? [...values, current] : values;
  const key = JSON.stringify(list.map(String));
  if (select.dataset.key !== key) {
    select.replaceChildren(...list.map((v) => new Option(label(v), String(v))));
    select.dataset.key = key;
  }
  if (current !== undefined && document.activeElement !== select) select.value = String(current);
}

export function setupControls(app, notify) {
  const number = (id, key, parse = Number) => {
    $(id).addEventListener("change", () => app.change({ [key]: parse($(id).value) }));
  };
  $("play").onclick = () => app.send({ type: app.frame?.header.playing || (app.state?.playing
    && !app.frame) ? "pause" : "play" });
  $("step").onclick = () => app.send({ type: "step" });
  $("reset").onclick = () => app.send({ type: "reset" });
  $("regenerate").onclick = () => app.send({ type: "regenerate" });
  number("lr", "lr");
  number("l2", "l2");
  number("dropout", "dropout");
  number("classes", "classes");
  number("seed", "seed");
  $("regularization").onchange = () => app.change({ regularization: $("regularization").value });
  $("problem").onchange = () => app.change({ problem: $("problem").value });
  $("loss").onchange = () => app.change({ loss: $("loss").value });
  $("optimizer").onchange = () => app.change({ optimizer: $("optimizer").value });
  $("activation").onchange = () => {
    const act = $("activation").value;
    if (act) app.change({ activations: app.state.config.hidden.map(() => act) });
  };
  for (const [id, key] of [["train", "train_percent"], ["noise", "noise"],
    ["batch", "batch_size"], ["points", "n_samples"]]) {
    $(id).addEventListener("input", () => { $(`${id}-value`).textContent = $(id).value; });
    $(id).addEventListener("change", () => app.change({ [key]: Number($(id).value) }));
  }
  $("add-layer").onclick = () => {
    const { hidden, activations } = app.state.config;
    if (hidden.length >= app.state.options.max_layers) {
      notify(`At most ${app.state.options.max_layers} hidden layers.`, "warning");
      return;
    }
    app.change({ hidden: [...hidden, 2],
      activations: [...activations, activations[activations.length - 1] || "tanh"] });
  };
  $("remove-layer").onclick = () => {
    const { hidden, activations } = app.state.config;
    if (hidden.length) app.change({ hidden: hidden.slice(0, -1), activations: activations.slice(0, -1) });
  };
  for (const [id, key] of [["csv-target", "target"], ["csv-x", "x_column"], ["csv-y", "y_column"]]) {
    $(id).onchange = () => app.change({ [key]: $(id).value });
  }
  $("csv-file").onchange = () => {
    const file = $("csv-file").files[0];
    $("csv-file").value = "";
    if (!file) return;
    const limit = app.state.options.csv_limits.bytes;
    if (file.size > limit) {
      notify(`${file.name} is ${(file.size / 2 ** 20).toFixed(1)} MB; the playground takes CSV `
        + `files up to ${limit / 2 ** 20} MB. Nothing was uploaded.`, "error");
      return;
    }
    const reader = new FileReader();
    reader.onload = () => app.send({ type: "csv", name: file.name, text: reader.result });
    reader.onerror = () => notify(`Could not read ${file.name}.`, "error");
    reader.readAsText(file);
  };
  $("explain").onclick = () => app.send({ type: "explain" });
  $("export").onclick = () => app.send({ type: "export" });
}

export function showState(app, state) {
  const c = state.config;
  const opts = state.options;
  options($("lr"), LEARNING_RATES, String, c.lr);
  const acts = new Set(c.activations);
  options($("activation"), ["", ...opts.activations], (v) => v || "(per layer)",
    acts.size === 1 ? c.activations[0] : "");
  options($("l2"), L2_RATES, String, c.l2);
  options($("dropout"), DROPOUTS, String, c.dropout);
  options($("classes"), [2, 3, 4, 5, 6], String, c.classes);
  options($("loss"), opts.losses[c.problem], (v) => LOSS_LABELS[v] || v, c.loss);
  for (const [id, value] of [["regularization", c.regularization], ["problem", c.problem],
    ["optimizer", c.optimizer], ["seed", c.seed]]) {
    if (document.activeElement !== $(id)) $(id).value = String(value);
  }
  $("l2").disabled = c.regularization === "none";
  for (const [id, value] of [["train", c.train_percent], ["noise", c.noise],
    ["batch", c.batch_size], ["points", c.n_samples]]) {
    if (document.activeElement !== $(id)) $(id).value = value;
    $(`${id}-value`).textContent = value;
  }
  const csv = c.dataset === "csv";
  $("noise").disabled = csv;
  $("points").disabled = csv;
  $("classes-row").hidden = !opts.multiclass_sets.includes(c.dataset);
  $("discretize").checked = c.discretize;
  $("show-test").checked = c.show_test;
  $("n-layers").textContent = c.hidden.length;
  $("csv-limits").textContent = `Up to ${opts.csv_limits.bytes / 2 ** 20} MB, `
    + `${opts.csv_limits.rows.toLocaleString()} rows, ${opts.csv_limits.columns} columns; `
    + "numeric feature columns; a target of classes or numbers.";
  datasets(app, state);
  csvPanel(state);
  layerControls(app, state);
}

function datasets(app, state) {
  const holder = $("datasets");
  const names = state.options.datasets[state.config.problem];
  const key = names.join(",");
  if (holder.dataset.key !== key) {
    holder.dataset.key = key;
    holder.replaceChildren(...names.map((name) => {
      const canvas = document.createElement("canvas");
      canvas.width = 52; canvas.height = 52;
      canvas.title = DATASET_LABELS[name] || name;
      canvas.dataset.name = name;
      thumbnail(canvas, name);
      canvas.onclick = () => app.change({ dataset: name });
      return canvas;
    }));
  }
  for (const canvas of holder.children) {
    canvas.classList.toggle("selected", canvas.dataset.name === state.config.dataset);
  }
}

function csvPanel(state) {
  const panel = $("csv-panel");
  panel.classList.toggle("shown", state.config.dataset === "csv");
  if (!state.csv) return;
  $("csv-name").textContent = state.csv.name;
  const columns = state.csv.columns;
  const c = state.config;
  options($("csv-target"), state.csv.header, String, c.target);
  options($("csv-x"), columns, String, c.x_column);
  options($("csv-y"), columns, String, c.y_column);
}

function layerControls(app, state) {
  const holder = $("layer-controls");
  const { hidden, activations } = state.config;
  const key = JSON.stringify([hidden, activations, state.options.activations]);
  if (holder.dataset.key === key) return;
  holder.dataset.key = key;
  holder.replaceChildren(...hidden.map((width, k) => {
    const box = document.createElement("div");
    box.className = "layer-control";
    const plus = document.createElement("button");
    plus.textContent = "+";
    plus.title = "Add a neuron";
    plus.onclick = () => {
      if (width >= state.options.max_neurons) return;
      app.change({ hidden: hidden.map((w, i) => (i === k ? w + 1 : w)) });
    };
    const minus = document.createElement("button");
    minus.textContent = "\u2212";
    minus.title = "Remove a neuron";
    minus.onclick = () => {
      if (width > 1) app.change({ hidden: hidden.map((w, i) => (i === k ? w - 1 : w)) });
    };
    const label = document.createElement("div");
    label.textContent = `${width} neuron${width === 1 ? "" : "s"}`;
    const select = document.createElement("select");
    select.title = `Activation of hidden layer ${k + 1}`;
    options(select, state.options.activations, String, activations[k]);
    select.onchange = () => app.change({
      activations: activations.map((a, i) => (i === k ? select.value : a)) });
    box.append(plus, " ", minus, label, select);
    return box;
  }));
}

/** A small picture of each built-in data set (drawn here; nothing is fetched). */
function thumbnail(canvas, name) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width;
  let seed = 7;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const dot = (x, y, colour) => {
    ctx.fillStyle = css(colour);
    ctx.fillRect((x + 6) / 12 * w - 1.5, (6 - y) / 12 * w - 1.5, 3, 3);
  };
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, w, w);
  for (let k = 0; k < 140; k++) {
    const u = rand() * 10 - 5, v = rand() * 10 - 5;
    if (name === "circle") {
      const r = k % 2 ? rand() * 2.5 : 3.5 + rand() * 1.5, t = rand() * 6.283;
      dot(r * Math.sin(t), r * Math.cos(t), diverging(k % 2 ? 1 : -1));
    } else if (name === "xor") {
      dot(u, v, diverging(u * v > 0 ? 1 : -1));
    } else if (name === "gauss") {
      const s = k % 2 ? 2 : -2;
      dot(s + (rand() - 0.5) * 2.4, s + (rand() - 0.5) * 2.4, diverging(s > 0 ? 1 : -1));
    } else if (name === "spiral") {
      const i = k / 2, r = i / 70 * 5, t = 1.75 * i / 70 * 6.283 + (k % 2) * Math.PI;
      dot(r * Math.sin(t), r * Math.cos(t), diverging(k % 2 ? 1 : -1));
    } else if (name === "moons") {
      const t = rand() * Math.PI;
      if (k % 2) dot((Math.cos(t) - 0.5) * 2.5, (Math.sin(t) - 0.25) * 2.5, classColor(0));
      else dot((1 - Math.cos(t) - 0.5) * 2.5, (0.5 - Math.sin(t) - 0.25) * 2.5, classColor(1));
    } else if (name === "reg-plane") {
      dot(u, v, diverging((u + v) / 10));
    } else if (name === "reg-gauss") {
      const centres = [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1],
        [4, -2.5, -1]];
      let best = 0;
      for (const [cx, cy, s] of centres) {
        const value = s * Math.max(0, 1 - Math.hypot(u - cx, v - cy) / 2);
        if (Math.abs(value) > Math.abs(best)) best = value;
      }
      dot(u, v, diverging(best));
    }
  }
}
