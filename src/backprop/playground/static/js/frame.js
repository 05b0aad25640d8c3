// Reading a binary frame (see frames.py): uint32 header length, JSON header, then arrays.

const decoder = new TextDecoder();

export function parseFrame(buffer) {
  const n = new DataView(buffer).getUint32(0, true);
  const header = JSON.parse(decoder.decode(new Uint8Array(buffer, 4, n)));
  const arrays = {};
  for (const [name, spec] of Object.entries(header.arrays)) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const offset = 4 + n + spec.offset;
    arrays[name] = spec.dtype === "f32" ? new Float32Array(buffer, offset, count)
      : new Uint8Array(buffer, offset, count);
    arrays[name].shape = spec.shape;
  }
  return { header, arrays };
}

/** Weight W⁽ˡ⁾[i][j] and bias b⁽ˡ⁾[j] (l from 1) in the flat params array. */
export class Params {
  constructor(values, sizes) {
    this.values = values;
    this.sizes = sizes; // [n_in, h1, ..., n_out]
    this.offsets = [];
    let offset = 0;
    for (let l = 1; l < sizes.length; l++) {
      this.offsets.push(offset);
      offset += (sizes[l - 1] + 1) * sizes[l];
    }
  }
  weight(l, i, j) {
    return this.values[this.offsets[l - 1] + i * this.sizes[l] + j];
  }
  bias(l, j) {
    return this.values[this.offsets[l - 1] + this.sizes[l - 1] * this.sizes[l] + j];
  }
}
