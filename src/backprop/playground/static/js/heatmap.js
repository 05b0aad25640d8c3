// The output plane: the network's output over the plane, the data points on top.

import { BYTE_LUT, classColor, css, diverging, mix, pack, WHITE } from "./colors.js";

/** Packed colours for an output field (K × R × R floats) at pixel i. */
export function outputColors(output, task, valueRange, discretize) {
  const [K, R] = [output.shape[0], output.shape[1]];
  const n = R * R;
  const out = new Uint32Array(n);
  if (task === "multiclass") {
    const colours = [];
    for (let k = 0; k < K; k++) colours.push(classColor(k));
    for (let i = 0; i < n; i++) {
      let best = 0, p = output[i];
      for (let k = 1; k < K; k++) {
        const q = output[k * n + i];
        if (q > p) { p = q; best = k; }
      }
      const confidence = discretize ? 0.75 : Math.max(0, (p - 1 / K) / (1 - 1 / K));
      out[i] = pack(mix(WHITE, colours[best], confidence));
    }
  } else if (task === "binary") {
    for (let i = 0; i < n; i++) {
      const t = 2 * output[i] - 1;
      out[i] = pack(discretize ? diverging(t > 0 ? 0.75 : -0.75) : diverging(t));
    }
  } else {
    const half = Math.max(Math.abs(valueRange[0]), Math.abs(valueRange[1]), 1e-9);
    for (let i = 0; i < n; i++) {
      const t = output[i] / half;
      out[i] = pack(discretize ? diverging(Math.round(t * 3) / 3) : diverging(t));
    }
  }
  return out;
}

/** A tile of packed colours from bytes (−1 … +1 mapped to 0 … 255). */
export function byteColors(bytes, start, count) {
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) out[i] = BYTE_LUT[bytes[start + i]];
  return out;
}

export class OutputView {
  constructor(canvas) {
    this.canvas = canvas;
    this.field = document.createElement("canvas");
    this.data = null;
    this.task = "binary";
    this.painted = false;
  }

  setData(data) {
    this.data = data;
    this.task = data.task;
  }

  paint(frame, options) {
    const output = frame.arrays.output;
    const R = output.shape[1];
    if (this.field.width !== R) { this.field.width = R; this.field.height = R; }
    const fctx = this.field.getContext("2d");
    const image = fctx.createImageData(R, R);
    const range = this.data ? this.data.value_range : [-1, 1];
    new Uint32Array(image.data.buffer).set(
      outputColors(output, this.task, range, options.discretize));
    fctx.putImageData(image, 0, 0);
    const { canvas } = this;
    const ctx = canvas.getContext("2d");
    const w = canvas.width, h = canvas.height;
    ctx.imageSmoothingEnabled = !options.discretize;
    ctx.drawImage(this.field, 0, 0, w, h);
    if (this.data) {
      this.points(ctx, this.data.train, "#fff");
      if (options.showTest) this.points(ctx, this.data.test, "#000");
      this.axes(ctx);
    }
    this.painted = true;
  }

  points(ctx, rows, stroke) {
    const [x0, x1, y0, y1] = this.data.domain;
    const w = this.canvas.width, h = this.canvas.height;
    const range = this.data.value_range;
    const half = Math.max(Math.abs(range[0]), Math.abs(range[1]), 1e-9);
    ctx.lineWidth = 1;
    ctx.strokeStyle = stroke;
    for (const [x, y, label] of rows) {
      const colour = this.task === "regression" ? diverging(label / half)
        : this.task === "binary" ? (label > 0.5 ? diverging(1) : diverging(-1))
          : classColor(label);
      ctx.beginPath();
      ctx.arc((x - x0) / (x1 - x0) * w, (y1 - y) / (y1 - y0) * h, 3.2, 0, 2 * Math.PI);
      ctx.fillStyle = css(colour);
      ctx.fill();
      ctx.stroke();
    }
  }

  axes(ctx) {
    const [x0, x1, y0, y1] = this.data.domain;
    const w = this.canvas.width, h = this.canvas.height;
    const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(2));
    ctx.fillStyle = "rgba(0,0,0,0.55)";
    ctx.font = "10px sans-serif";
    ctx.fillText(fmt(x0), 3, h - 4);
    ctx.fillText(fmt(x1), w - 28, h - 4);
    ctx.fillText(fmt(y1), 3, 11);
    ctx.fillText(`${this.data.axes[0]} →`, w / 2 - 16, h - 4);
    ctx.save();
    ctx.translate(10, h / 2 + 16);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(`${this.data.axes[1]} →`, 0, 0);
    ctx.restore();
  }
}
