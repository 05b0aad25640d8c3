// Colour scales shared by every drawing: orange (negative, class 0), white, blue (positive,
// class 1), and one colour per class beyond two.

export const ORANGE = [245, 147, 34];
export const BLUE = [8, 119, 189];
export const WHITE = [255, 255, 255];
export const PALETTE = [ORANGE, BLUE, [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]];

export function mix(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** A colour as one little-endian RGBA word, for a Uint32Array view of ImageData. */
export function pack(c, alpha = 255) {
  return ((alpha << 24) | (Math.round(c[2]) << 16) | (Math.round(c[1]) << 8)
    | Math.round(c[0])) >>> 0;
}

/** t in [−1, 1] → orange … white … blue. */
export function diverging(t) {
  t = Math.max(-1, Math.min(1, t));
  return t < 0 ? mix(WHITE, ORANGE, -t) : mix(WHITE, BLUE, t);
}

export function css(c, alpha = 1) {
  return `rgba(${Math.round(c[0])},${Math.round(c[1])},${Math.round(c[2])},${alpha})`;
}

/** 256 packed colours: byte 0 → −1 (orange), 128 → 0 (white), 255 → +1 (blue). */
export const BYTE_LUT = (() => {
  const lut = new Uint32Array(256);
  for (let i = 0; i < 256; i++) lut[i] = pack(diverging(i / 127.5 - 1));
  return lut;
})();

export function classColor(k) {
  return PALETTE[k % PALETTE.length];
}
