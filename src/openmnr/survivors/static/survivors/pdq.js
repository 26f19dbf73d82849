// PDQ, Meta's perceptual photo hash, in the browser: the same value the server computes
// (openmnr.core.signals.pdq) from pixels that never leave the device.
//
// Two entry points, mirroring the server's two modes:
//
// - pdqFromRGBA(pixels, width, height): the reference algorithm on full-resolution pixels, step by
//   step as Meta's C++ code does it, every operation rounded to 32-bit float (Math.fround) in the
//   reference's order, so that on the same pixels the hash and quality are bit-identical to the
//   reference (the `pdqhash` package). Luma, two passes of a box filter along each axis sized
//   ceil(n/128) (Jarosz), 64x64 samples at the strip centres, the gradient quality, the 16x16 DCT
//   (rows 1-16 of the 64-point DCT-II) and the median threshold.
//
// - pdqFromReduced(luma, width, height, model): a picture decoded at reduced scale (a JPEG decoded
//   with the decoder's DCT scaling, 1/2, 1/4 or 1/8, which skips most of the decoding work of a
//   12-megapixel photo). Each reduced pixel is modelled as standing for its block of full-resolution
//   pixels, and the reference's blur and sampling become, per axis, 64 small weight vectors over the
//   reduced pixels: the server's fast mode, ported (see _axis_weights in pdq.py), so a reduced decode
//   stays within a few bits of the full-resolution reference instead of drifting by ten or more.
//
// Hex output as the reference prints it: bit 255 first. No DOM, no I/O: usable in a page, a worker,
// or Node for testing.

const F = Math.fround;

export const QUALITY_THRESHOLD = 50;
export const MIN_SIDE = 5;
const LUMA_R = F(0.299);
const LUMA_G = F(0.587);
const LUMA_B = F(0.114);

// Rows 1..16 of the 64-point DCT-II, float32, computed as the reference computes them.
const DCT = (() => {
  const matrix = new Float32Array(16 * 64);
  const scale = F(Math.sqrt(2 / 64));
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) {
      matrix[i * 64 + j] = F(scale * Math.cos((Math.PI / 2 / 64) * (i + 1) * (2 * j + 1)));
    }
  }
  return matrix;
})();

// --- the reference algorithm on full-resolution pixels ---------------------------------------

// Float luma of RGBA (or RGBX, BGRX with bgr=true) pixels: 0.299 R + 0.587 G + 0.114 B in float32.
// Alpha is ignored, as the reference does.
export function lumaFromRGBA(pixels, width, height, bgr = false, stride = width * 4) {
  const luma = new Float32Array(width * height);
  const r = bgr ? 2 : 0;
  const b = bgr ? 0 : 2;
  for (let y = 0; y < height; y++) {
    let p = y * stride;
    let k = y * width;
    for (let x = 0; x < width; x++, p += 4, k++) {
      luma[k] = F(F(F(LUMA_R * pixels[p + r]) + F(LUMA_G * pixels[p + 1])) + F(LUMA_B * pixels[p + b]));
    }
  }
  return luma;
}

export function pdqFromRGBA(pixels, width, height) {
  return pdqFromLuma(lumaFromRGBA(pixels, width, height), width, height);
}

// The reference's PDQ of a float luma plane (row-major, width x height). `luma` is overwritten.
export function pdqFromLuma(luma, width, height) {
  if (width < MIN_SIDE || height < MIN_SIDE) {
    return { hash: "0".repeat(64), quality: 0 };
  }
  const scratch = new Float32Array(width * height);
  const alongRows = jaroszWindow(width);
  const alongCols = jaroszWindow(height);
  for (let pass = 0; pass < 2; pass++) {
    for (let y = 0; y < height; y++) box1D(luma, scratch, y * width, width, 1, alongRows);
    for (let x = 0; x < width; x++) box1D(scratch, luma, x, height, width, alongCols);
  }
  const samples = new Float32Array(64 * 64);
  for (let i = 0; i < 64; i++) {
    const row = Math.trunc(((i + 0.5) * height) / 64);
    for (let j = 0; j < 64; j++) {
      samples[i * 64 + j] = luma[row * width + Math.trunc(((j + 0.5) * width) / 64)];
    }
  }
  return finish(samples);
}

function jaroszWindow(length) {
  return Math.trunc((length + 127) / 128);
}

// One pass of the reference's box filter along a vector (the reference's box1DFloat): a running
// float32 sum over a window that is shorter at both ends.
function box1D(input, output, start, length, stride, window) {
  const half = Math.trunc((window + 2) / 2);
  const phase1 = half - 1;
  const phase2 = window - half + 1;
  const phase3 = length - window;
  const phase4 = half - 1;
  let left = start;
  let right = start;
  let out = start;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < phase1; i++) {
    sum = F(sum + input[right]);
    count++;
    right += stride;
  }
  for (let i = 0; i < phase2; i++) {
    sum = F(sum + input[right]);
    count++;
    output[out] = F(sum / count);
    right += stride;
    out += stride;
  }
  for (let i = 0; i < phase3; i++) {
    sum = F(sum + input[right]);
    sum = F(sum - input[left]);
    output[out] = F(sum / count);
    left += stride;
    right += stride;
    out += stride;
  }
  for (let i = 0; i < phase4; i++) {
    sum = F(sum - input[left]);
    count--;
    output[out] = F(sum / count);
    left += stride;
    out += stride;
  }
}

// Quality, DCT and bits from the 64x64 samples (shared by both entry points).
function finish(samples) {
  const quality = qualityOf(samples);
  const dct = dct64To16(samples);
  return { hash: bitsToHex(dct), quality };
}

// The reference's quality: summed, truncated gradients of the 64x64 samples, scaled to 0-100.
function qualityOf(samples) {
  let sum = 0;
  for (let i = 0; i < 63; i++) {
    for (let j = 0; j < 64; j++) {
      sum += Math.abs(Math.trunc(F(F(F(samples[i * 64 + j] - samples[(i + 1) * 64 + j]) * 100) / 255)));
    }
  }
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 63; j++) {
      sum += Math.abs(Math.trunc(F(F(F(samples[i * 64 + j] - samples[i * 64 + j + 1]) * 100) / 255)));
    }
  }
  return Math.min(100, Math.trunc(sum / 90));
}

// B = D A D^T with the reference's summation order, float32 throughout.
function dct64To16(samples) {
  const t = new Float32Array(16 * 64);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) {
      let sum = 0;
      for (let k = 0; k < 64; k++) sum = F(sum + F(DCT[i * 64 + k] * samples[k * 64 + j]));
      t[i * 64 + j] = sum;
    }
  }
  const out = new Float32Array(256);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      let sum = 0;
      for (let k = 0; k < 64; k++) sum = F(sum + F(t[i * 64 + k] * DCT[j * 64 + k]));
      out[i * 16 + j] = sum;
    }
  }
  return out;
}

// Bit i*16+j is set when coefficient (i, j) exceeds the median (the 128th smallest, as the
// reference's Torben median gives); hexadecimal with bit 255 first.
function bitsToHex(dct) {
  const median = Float32Array.from(dct).sort()[127];
  let hex = "";
  for (let byte = 31; byte >= 0; byte--) {
    let value = 0;
    for (let bit = 0; bit < 8; bit++) {
      if (dct[byte * 8 + bit] > median) value |= 1 << bit;
    }
    hex += value.toString(16).padStart(2, "0");
  }
  return hex;
}

// --- a picture decoded at reduced scale ---------------------------------------------------------

// `luma`: the reduced picture (width x height, upright). `model`: { fullWidth, fullHeight } of the
// upright full picture, `scale` (full pixels per reduced pixel along each axis), `jpegScaled`
// (the decoder kept the lowest 8/scale DCT frequencies of each 8x8 block rather than averaging),
// and `reversed` [rows, columns]: which upright axes run backwards through the stored image (EXIF
// orientation), which decides where a partial edge block falls.
export function pdqFromReduced(luma, width, height, model) {
  const { fullWidth, fullHeight, scale, jpegScaled } = model;
  const reversed = model.reversed || [false, false];
  if (fullWidth < MIN_SIDE || fullHeight < MIN_SIDE) {
    return { hash: "0".repeat(64), quality: 0 };
  }
  const rows = axisWeights(fullHeight, height, scale, jpegScaled, reversed[0]);
  const cols = axisWeights(fullWidth, width, scale, jpegScaled, reversed[1]);
  const line = new Float64Array(width);
  const samples = new Float32Array(64 * 64);
  for (let i = 0; i < 64; i++) {
    line.fill(0);
    for (let t = 0; t < rows.taps; t++) {
      const w = rows.weights[i * rows.taps + t];
      if (w === 0) continue;
      const y = Math.min(rows.start[i] + t, height - 1);
      const base = y * width;
      for (let x = 0; x < width; x++) line[x] += w * luma[base + x];
    }
    for (let j = 0; j < 64; j++) {
      let sum = 0;
      for (let t = 0; t < cols.taps; t++) {
        sum += cols.weights[j * cols.taps + t] * line[Math.min(cols.start[j] + t, width - 1)];
      }
      samples[i * 64 + j] = sum;
    }
  }
  return finish(samples);
}

// Along one axis, how each of the 64 reference samples is made from reduced pixels: sample i is
// sum(weights[i, t] * reduced[start[i] + t]). The reference blurs the full-resolution axis with two
// passes of a box of `window` pixels (shorter at the ends) and samples the centres of 64 strips;
// after both passes full pixel j weighs, in the sample at centre c, the mean over c's box of the
// second pass's 1/count(k) for the k whose box holds j. Each full pixel is then spread over the
// reduced pixel(s) of its block (the block model).
function axisWeights(nFull, nReduced, scale, jpegScaled, reverse) {
  const window = Math.trunc((nFull + 127) / 128);
  const half = Math.trunc((window + 2) / 2);
  const low = new Int32Array(nFull);
  const high = new Int32Array(nFull);
  const inverse = new Float64Array(nFull);
  const prefix = new Float64Array(nFull + 1);
  for (let k = 0; k < nFull; k++) {
    low[k] = Math.max(k - (window - half), 0);
    high[k] = Math.min(k + half, nFull);
    inverse[k] = 1 / (high[k] - low[k]);
    prefix[k + 1] = prefix[k] + inverse[k];
  }
  const centre = new Int32Array(64);
  let reach = 0;
  for (let i = 0; i < 64; i++) {
    const c = Math.trunc(((i + 0.5) * nFull) / 64);
    centre[i] = c;
    reach = Math.max(reach, high[high[c] - 1] - low[low[c]]);
  }
  const block = blockModel(scale, jpegScaled);
  const blockFull = block.rows;
  const blockReduced = block.cols;
  const entries = [];
  let taps = 1;
  const start = new Int32Array(64);
  for (let i = 0; i < 64; i++) {
    const c = centre[i];
    const contributions = [];
    let first = Infinity;
    for (let t = 0; t < reach; t++) {
      let full = low[low[c]] + t;
      const inside = full < nFull;
      full = Math.min(full, nFull - 1);
      const from = Math.max(low[c], full - half + 1);
      const to = Math.min(high[c], full + window - half + 1);
      const weight = inside && to > from ? (prefix[to] - prefix[from]) * inverse[c] : 0;
      const stored = reverse ? nFull - 1 - full : full;
      const blockIndex = Math.trunc(stored / blockFull);
      for (let r = 0; r < blockReduced; r++) {
        let reduced = Math.min(blockIndex * blockReduced + r, nReduced - 1);
        if (reverse) reduced = nReduced - 1 - reduced;
        const share = weight * block.values[(stored % blockFull) * blockReduced + r];
        contributions.push([reduced, share]);
        first = Math.min(first, reduced);
      }
    }
    start[i] = first;
    for (const [reduced, share] of contributions) taps = Math.max(taps, reduced - first + 1);
    entries.push(contributions);
  }
  const weights = new Float64Array(64 * taps);
  for (let i = 0; i < 64; i++) {
    for (const [reduced, share] of entries[i]) weights[i * taps + reduced - start[i]] += share;
  }
  return { start, weights, taps };
}

// (full pixels) x (reduced pixels) of one block: how full-resolution pixels are made from reduced
// ones. Averaging: `scale` pixels share one reduced pixel. A JPEG decoded at 1/scale keeps the
// lowest 8/scale DCT frequencies of each 8-pixel block: the block is the 8-point inverse DCT of
// the reduced pixels' own DCT.
function blockModel(scale, jpegScaled) {
  if (!jpegScaled) return { rows: scale, cols: 1, values: new Float64Array(scale).fill(1) };
  const kept = Math.trunc(8 / scale);
  const big = orthonormalDct(8);
  const small = orthonormalDct(kept);
  const values = new Float64Array(8 * kept);
  for (let f = 0; f < 8; f++) {
    for (let r = 0; r < kept; r++) {
      let sum = 0;
      for (let q = 0; q < kept; q++) sum += big[q * 8 + f] * small[q * kept + r];
      values[f * kept + r] = sum * Math.sqrt(scale);
    }
  }
  return { rows: 8, cols: kept, values };
}

function orthonormalDct(n) {
  const matrix = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    for (let x = 0; x < n; x++) {
      matrix[k * n + x] = Math.sqrt(2 / n) * Math.cos((Math.PI / (2 * n)) * k * (2 * x + 1)) / (k === 0 ? Math.SQRT2 : 1);
    }
  }
  return matrix;
}

// Hamming distance of two hex hashes of equal length.
export function distance(a, b) {
  let bits = 0;
  for (let i = 0; i < a.length; i++) {
    let x = parseInt(a[i], 16) ^ parseInt(b[i], 16);
    while (x) {
      bits += x & 1;
      x >>= 1;
    }
  }
  return bits;
}
