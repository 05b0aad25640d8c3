// Small line charts drawn on a canvas: the loss curve and the gradient norms per layer.

import { css } from "./colors.js";

export class LineChart {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{log?: boolean, colors: number[][], widths?: number[]}} options
   */
  constructor(canvas, options) {
    this.canvas = canvas;
    this.log = !!options.log;
    this.colors = options.colors;
    this.widths = options.widths || [];
    this.max = 1200;
    this.reset();
  }

  reset() {
    this.xs = [];
    this.series = [];
    this.dirty = true;
  }

  add(x, values) {
    if (this.xs.length && x <= this.xs[this.xs.length - 1]) return;
    this.xs.push(x);
    values.forEach((v, k) => {
      if (!this.series[k]) this.series[k] = new Array(this.xs.length - 1).fill(null);
      this.series[k].push(v);
    });
    if (this.xs.length > this.max) { // keep every other point: the curve's shape stays
      const keep = (_, i) => i % 2 === 0 || i === this.xs.length - 1;
      this.xs = this.xs.filter(keep);
      this.series = this.series.map((s) => s.filter(keep));
    }
    this.dirty = true;
  }

  paint() {
    if (!this.dirty) return;
    this.dirty = false;
    const { canvas } = this;
    const ctx = canvas.getContext("2d");
    const w = canvas.width, h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = "#fafafa";
    ctx.fillRect(0, 0, w, h);
    const f = this.log ? (v) => (v > 0 ? Math.log10(v) : null) : (v) => v;
    let lo = Infinity, hi = -Infinity;
    for (const s of this.series) {
      for (const v of s) {
        const y = v == null ? null : f(v);
        if (y == null || !isFinite(y)) continue;
        lo = Math.min(lo, y); hi = Math.max(hi, y);
      }
    }
    if (!this.xs.length || !isFinite(lo)) return;
    if (!this.log) lo = Math.min(lo, 0);
    if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
    const x0 = this.xs[0], x1 = Math.max(this.xs[this.xs.length - 1], x0 + 1);
    const px = (x) => 2 + (w - 4) * (x - x0) / (x1 - x0);
    const py = (y) => h - 3 - (h - 6) * (y - lo) / (hi - lo);
    this.series.forEach((s, k) => {
      ctx.beginPath();
      let open = false;
      s.forEach((v, i) => {
        const y = v == null ? null : f(v);
        if (y == null || !isFinite(y)) { open = false; return; }
        if (open) ctx.lineTo(px(this.xs[i]), py(y));
        else { ctx.moveTo(px(this.xs[i]), py(y)); open = true; }
      });
      ctx.strokeStyle = css(this.colors[k % this.colors.length]);
      ctx.lineWidth = this.widths[k] || 1.5;
      ctx.stroke();
    });
    ctx.fillStyle = "#999";
    ctx.font = "10px sans-serif";
    const label = (y) => (this.log ? `1e${y.toFixed(1)}` : y.toPrecision(3));
    ctx.fillText(label(hi), 3, 10);
    ctx.fillText(label(lo), 3, h - 4);
  }
}
