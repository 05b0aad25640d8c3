// The network diagram: one canvas with every neuron's field, the links (width and colour by
// weight) and the biases; hover to read a weight or bias, click to edit it.

import { BYTE_LUT, classColor, css, diverging, mix, pack, WHITE } from "./colors.js";
import { Params } from "./frame.js";

const FEATURE_LABELS = {
  x1: "X\u2081", x2: "X\u2082", x1sq: "X\u2081\u00B2", x2sq: "X\u2082\u00B2",
  x1x2: "X\u2081X\u2082", sinx1: "sin(X\u2081)", sinx2: "sin(X\u2082)",
};
const LABEL_ROOM = 64; // left of the input column: feature names

/** A built-in feature over the plane [−6, 6]², scaled to [−1, 1]: r × r bytes. */
function featureBytes(name, r) {
  const f = {
    x1: (x) => x / 6, x2: (x, y) => y / 6, x1sq: (x) => (x * x) / 36, x2sq: (x, y) => (y * y) / 36,
    x1x2: (x, y) => (x * y) / 36, sinx1: (x) => Math.sin(x), sinx2: (x, y) => Math.sin(y),
  }[name];
  const out = new Uint8Array(r * r);
  for (let row = 0; row < r; row++) {
    const y = 6 - 12 * (row + 0.5) / r;
    for (let col = 0; col < r; col++) {
      const x = -6 + 12 * (col + 0.5) / r;
      out[row * r + col] = Math.max(0, Math.min(255, Math.round((f(x, y) + 1) * 127.5)));
    }
  }
  return out;
}

export class NetworkView {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {HTMLElement} tooltip
   * @param {{toggleFeature: Function, edit: Function, layerControls: Function}} hooks
   */
  constructor(canvas, tooltip, hooks) {
    this.canvas = canvas;
    this.tooltip = tooltip;
    this.tooltipText = tooltip.querySelector("#tooltip-text");
    this.tooltipInput = tooltip.querySelector("#tooltip-input");
    this.hooks = hooks;
    this.atlas = document.createElement("canvas");
    this.state = null;
    this.frame = null;
    this.hover = null;
    this.editing = null;
    this.painted = false;
    canvas.addEventListener("mousemove", (e) => this.onMove(e));
    canvas.addEventListener("mouseleave", () => { if (!this.editing) this.hideTooltip(); });
    canvas.addEventListener("click", (e) => this.onClick(e));
    this.tooltipInput.addEventListener("keydown", (e) => {
      if (e.key === "Enter") this.commitEdit();
      if (e.key === "Escape") this.cancelEdit();
    });
    this.tooltipInput.addEventListener("blur", () => {
      const editing = this.editing; // a later edit must outlive this one's blur
      setTimeout(() => { if (this.editing === editing) this.cancelEdit(); }, 150);
    });
    window.addEventListener("resize", () => { if (this.state) this.setState(this.state); });
  }

  /** A new architecture or input set: lay the nodes out again. */
  setState(state) {
    this.state = state;
    const builtIn = !state.csv || state.config.dataset !== "csv";
    const all = builtIn ? state.options.features : state.inputs;
    this.inputs = all.map((name) => ({
      name, label: builtIn ? FEATURE_LABELS[name] || name : name,
      active: state.inputs.includes(name), index: state.inputs.indexOf(name),
    }));
    this.sizes = [state.inputs.length, ...state.layers];
    this.builtIn = builtIn;
    this.cancelEdit();
    this.layout();
    this.painted = false;
    if (this.frame) this.paint(this.frame);
  }

  layout() {
    const dpr = window.devicePixelRatio || 1;
    const columns = [this.inputs.length, ...this.state.layers];
    const most = Math.max(...columns);
    // As tall as the largest column needs at full node size, within bounds.
    const cssW = this.canvas.clientWidth || 600;
    const cssH = Math.max(260, Math.min(560, Math.round(16 + most * 38 * 1.25)));
    this.canvas.style.height = `${cssH}px`;
    this.canvas.width = Math.round(cssW * dpr);
    this.canvas.height = Math.round(cssH * dpr);
    this.dpr = dpr;
    this.W = cssW; this.H = cssH;
    const size = Math.max(9, Math.min(38, Math.floor((cssH - 16) / most / 1.25)));
    const gap = Math.max(2, Math.round(size * 0.25));
    this.size = size;
    const left = LABEL_ROOM + size / 2, right = cssW - size / 2 - 14;
    const n = columns.length;
    this.columns = columns.map((count, c) => {
      const x = n === 1 ? left : left + (right - left) * c / (n - 1);
      const nodes = [];
      for (let k = 0; k < count; k++) nodes.push({ x, y: 8 + size / 2 + k * (size + gap) });
      return { x, nodes };
    });
    // Links between consecutive columns, sampled along their curves for hovering.
    this.links = [];
    for (let l = 1; l < n; l++) {
      const from = this.columns[l - 1].nodes, to = this.columns[l].nodes;
      from.forEach((a, i) => {
        if (l === 1 && !this.inputs[i].active) return;
        const row = l === 1 ? this.inputs[i].index : i;
        to.forEach((b, j) => {
          const x0 = a.x + size / 2, x1 = b.x - size / 2, mid = (x0 + x1) / 2;
          const pts = [];
          for (let t = 0; t <= 1.0001; t += 1 / 10) {
            const u = 1 - t;
            pts.push([u * u * u * x0 + 3 * u * u * t * mid + 3 * u * t * t * mid + t * t * t * x1,
              u * u * u * a.y + 3 * u * u * t * a.y + 3 * u * t * t * b.y + t * t * t * b.y]);
          }
          this.links.push({ l, i: row, j, x0, y0: a.y, x1, y1: b.y, mid, pts });
        });
      });
    }
    this.hooks.layerControls(this.columns.slice(1, -1).map((c) => c.x));
  }

  paint(frame) {
    this.frame = frame;
    if (!this.state || frame.header.generation !== this.state.generation) return;
    const ctx = this.canvas.getContext("2d");
    const { size, dpr } = this;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.W, this.H);
    const params = new Params(frame.arrays.params, this.sizes);
    this.params = params;
    const many = this.links.length > 600;
    for (const link of this.links) {
      const w = params.weight(link.l, link.i, link.j);
      ctx.beginPath();
      ctx.moveTo(link.x0, link.y0);
      ctx.bezierCurveTo(link.mid, link.y0, link.mid, link.y1, link.x1, link.y1);
      ctx.strokeStyle = css(diverging(w > 0 ? 1 : -1), many ? 0.45 : 0.8);
      ctx.lineWidth = Math.max(many ? 0.3 : 0.6, Math.min(many ? 3 : 8, Math.abs(w) * 1.8));
      ctx.stroke();
    }
    this.paintNodes(ctx, frame, params);
    if (this.hover) this.outline(ctx, this.hover);
    this.painted = true;
  }

  paintNodes(ctx, frame, params) {
    const { size } = this;
    const neurons = frame.arrays.neurons, r = frame.header.neuron_resolution;
    const hiddenCount = this.state.layers.slice(0, -1).reduce((a, b) => a + b, 0);
    const nOut = this.state.layers[this.state.layers.length - 1];
    const tiles = this.inputs.length + hiddenCount + nOut;
    const across = Math.ceil(Math.sqrt(tiles));
    if (this.atlas.width !== across * r || this.atlas.height !== across * r) {
      this.atlas.width = across * r; this.atlas.height = across * r;
    }
    const actx = this.atlas.getContext("2d");
    const image = actx.createImageData(across * r, across * r);
    const words = new Uint32Array(image.data.buffer);
    let tile = 0;
    const place = (colours) => {
      const tx = (tile % across) * r, ty = Math.floor(tile / across) * r;
      for (let row = 0; row < r; row++) {
        words.set(colours.subarray(row * r, row * r + r), (ty + row) * across * r + tx);
      }
      return tile++;
    };
    const fromBytes = (bytes, start) => {
      const out = new Uint32Array(r * r);
      for (let i = 0; i < r * r; i++) out[i] = BYTE_LUT[bytes[start + i]];
      return out;
    };
    const inputTiles = this.inputs.map((input) => {
      if (this.builtIn) {
        if (!this.featureCache || this.featureCache.r !== r) this.featureCache = { r };
        const key = input.name;
        this.featureCache[key] = this.featureCache[key] || fromBytes(featureBytes(key, r), 0);
        return place(this.featureCache[key]);
      }
      return place(fromBytes(frame.arrays.inputs, input.index * r * r));
    });
    const hiddenTiles = [];
    for (let k = 0; k < hiddenCount; k++) hiddenTiles.push(place(fromBytes(neurons, k * r * r)));
    const outputTiles = [];
    const output = frame.arrays.output, R = output.shape[1], step = R / r;
    for (let k = 0; k < nOut; k++) {
      const colours = new Uint32Array(r * r);
      for (let row = 0; row < r; row++) {
        for (let col = 0; col < r; col++) {
          const v = output[k * R * R + Math.floor((row + 0.5) * step) * R
            + Math.floor((col + 0.5) * step)];
          let c;
          if (this.state.task === "multiclass") c = mix(WHITE, classColor(k), v);
          else if (this.state.task === "binary") c = diverging(2 * v - 1);
          else c = diverging(v);
          colours[row * r + col] = pack(c);
        }
      }
      outputTiles.push(place(colours));
    }
    actx.putImageData(image, 0, 0);
    const draw = (node, t, faded) => {
      const sx = (t % across) * r, sy = Math.floor(t / across) * r;
      ctx.globalAlpha = faded ? 0.25 : 1;
      ctx.drawImage(this.atlas, sx, sy, r, r, node.x - size / 2, node.y - size / 2, size, size);
      ctx.globalAlpha = 1;
      ctx.strokeStyle = faded ? "#ccc" : "#777";
      ctx.lineWidth = 1;
      ctx.strokeRect(node.x - size / 2, node.y - size / 2, size, size);
    };
    ctx.font = `${Math.min(13, Math.max(9, size / 3))}px sans-serif`;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    this.columns[0].nodes.forEach((node, i) => {
      draw(node, inputTiles[i], !this.inputs[i].active);
      ctx.fillStyle = this.inputs[i].active ? "#333" : "#aaa";
      ctx.fillText(this.inputs[i].label.slice(0, 12), node.x - size / 2 - 5, node.y);
    });
    let k = 0;
    for (let c = 1; c < this.columns.length; c++) {
      const last = c === this.columns.length - 1;
      this.columns[c].nodes.forEach((node, j) => {
        draw(node, last ? outputTiles[j] : hiddenTiles[k++], false);
        const b = params.bias(c, j);
        const s = Math.max(4, Math.round(size / 4));
        ctx.fillStyle = css(diverging(b));
        ctx.fillRect(node.x - size / 2 - s / 2, node.y + size / 2 - s / 2, s, s);
        ctx.strokeStyle = "#555";
        ctx.strokeRect(node.x - size / 2 - s / 2, node.y + size / 2 - s / 2, s, s);
      });
    }
  }

  /** Page coordinates of every bias square and of each link's middle (for tests). */
  positions() {
    const rect = this.canvas.getBoundingClientRect();
    const ox = rect.left + window.scrollX, oy = rect.top + window.scrollY;
    const biases = [];
    for (let c = 1; c < this.columns.length; c++) {
      this.columns[c].nodes.forEach((node, j) => biases.push({ l: c, j,
        x: ox + node.x - this.size / 2, y: oy + node.y + this.size / 2 }));
    }
    const links = this.links.map((link) => {
      const [x, y] = link.pts[Math.floor(link.pts.length / 2)];
      return { l: link.l, i: link.i, j: link.j, x: ox + x, y: oy + y };
    });
    return { biases, links };
  }

  // -- reading and editing ---------------------------------------------------------------
  find(x, y) {
    const { size } = this;
    const s = Math.max(4, Math.round(size / 4));
    for (let c = 1; c < this.columns.length; c++) {
      for (const [j, node] of this.columns[c].nodes.entries()) {
        const bx = node.x - size / 2, by = node.y + size / 2;
        if (Math.abs(x - bx) <= s / 2 + 2 && Math.abs(y - by) <= s / 2 + 2) {
          return { kind: "b", l: c, j, x: bx, y: by };
        }
      }
    }
    for (const [i, node] of this.columns[0].nodes.entries()) {
      if (Math.abs(x - node.x) <= size / 2 && Math.abs(y - node.y) <= size / 2) {
        return { kind: "input", i, x: node.x, y: node.y };
      }
    }
    let best = null, bestD = 5;
    for (const link of this.links) {
      if (x < link.x0 - 2 || x > link.x1 + 2) continue;
      for (let p = 1; p < link.pts.length; p++) {
        const d = segmentDistance(x, y, link.pts[p - 1], link.pts[p]);
        if (d < bestD) { bestD = d; best = link; }
      }
    }
    return best ? { kind: "W", l: best.l, i: best.i, j: best.j, link: best, x, y } : null;
  }

  describe(hit) {
    const name = (l, i) => (l === 1 ? this.inputs.find((f) => f.index === i).label
      : `neuron ${i + 1} of layer ${l - 1}`);
    const target = (l, j) => (l === this.sizes.length - 1 ? `output ${j + 1}`
      : `neuron ${j + 1} of layer ${l}`);
    if (hit.kind === "W") {
      const w = this.params.weight(hit.l, hit.i, hit.j);
      return [`Weight W\u207D${hit.l}\u207E[${hit.i + 1},${hit.j + 1}], ${name(hit.l, hit.i)} \u2192 ${target(hit.l, hit.j)}: ${w.toFixed(4)}`, w];
    }
    if (hit.kind === "b") {
      const b = this.params.bias(hit.l, hit.j);
      return [`Bias b\u207D${hit.l}\u207E[${hit.j + 1}] of ${target(hit.l, hit.j)}: ${b.toFixed(4)}`, b];
    }
    const input = this.inputs[hit.i];
    return [`${input.label}: ${input.active ? "in use (click to drop)" : "not used (click to add)"}`, null];
  }

  onMove(e) {
    if (this.editing || !this.params) return;
    const rect = this.canvas.getBoundingClientRect();
    const hit = this.find(e.clientX - rect.left, e.clientY - rect.top);
    this.hover = hit;
    if (!hit) { this.hideTooltip(); return; }
    const [text] = this.describe(hit);
    this.showTooltip(text + (hit.kind === "input" || !this.builtIn && hit.kind === "input" ? ""
      : "  (click to edit)"), e.clientX - rect.left, e.clientY - rect.top);
  }

  onClick(e) {
    const rect = this.canvas.getBoundingClientRect();
    const hit = this.find(e.clientX - rect.left, e.clientY - rect.top);
    if (!hit) return;
    if (hit.kind === "input") {
      if (this.builtIn) this.hooks.toggleFeature(this.inputs[hit.i].name);
      return;
    }
    const [text, value] = this.describe(hit);
    this.editing = hit;
    this.showTooltip(text, e.clientX - rect.left, e.clientY - rect.top);
    this.tooltipInput.hidden = false;
    this.tooltipInput.value = value.toFixed(4);
    this.tooltipInput.focus();
    this.tooltipInput.select();
  }

  commitEdit() {
    const hit = this.editing;
    if (!hit) return;
    const value = Number(this.tooltipInput.value);
    this.hooks.edit({ layer: hit.l, kind: hit.kind, i: hit.kind === "W" ? hit.i : 0,
      j: hit.j, value: Number.isFinite(value) ? value : this.tooltipInput.value });
    this.cancelEdit();
  }

  cancelEdit() {
    this.editing = null;
    this.tooltipInput.hidden = true;
    this.hideTooltip();
  }

  showTooltip(text, x, y) {
    this.tooltipText.textContent = text;
    this.tooltip.hidden = false;
    const left = Math.min(x + 14, this.W - this.tooltip.offsetWidth - 4);
    this.tooltip.style.left = `${Math.max(0, left)}px`;
    this.tooltip.style.top = `${y + 14}px`;
  }

  hideTooltip() {
    if (!this.editing) this.tooltip.hidden = true;
  }

  outline(ctx, hit) {
    if (hit.kind !== "W") return;
    const link = hit.link;
    ctx.beginPath();
    ctx.moveTo(link.x0, link.y0);
    ctx.bezierCurveTo(link.mid, link.y0, link.mid, link.y1, link.x1, link.y1);
    ctx.strokeStyle = "rgba(0,0,0,0.6)";
    ctx.lineWidth = 1;
    ctx.stroke();
  }
}

function segmentDistance(x, y, a, b) {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const len = dx * dx + dy * dy;
  const t = len ? Math.max(0, Math.min(1, ((x - a[0]) * dx + (y - a[1]) * dy) / len)) : 0;
  return Math.hypot(x - a[0] - t * dx, y - a[1] - t * dy);
}
