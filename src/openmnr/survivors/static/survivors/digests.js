// MD5 and SHA-256 of a file's bytes, in the browser, fed in chunks so that a long video never has
// to sit in memory whole.
//
// MD5 is what StopNCII and most lists of known material carry for videos; WebCrypto does not offer
// it (it is broken as a signature, which is not how it is used here: only to find exact copies), so
// it is written here from RFC 1321. SHA-256 uses WebCrypto (native, fast) when the file is small
// enough to hand over whole (WHOLE_FILE_LIMIT) and the incremental implementation below (FIPS 180-4)
// otherwise, since WebCrypto cannot digest a stream.

export const WHOLE_FILE_LIMIT = 64 * 1024 * 1024;
export const CHUNK = 4 * 1024 * 1024;

// --- MD5 (RFC 1321) ------------------------------------------------------------------------------


class BlockHash {
  // Buffers input and hands whole 64-byte blocks to this.block(view, offset).
  constructor() {
    this.pending = new Uint8Array(64);
    this.pendingLength = 0;
    this.length = 0; // bytes seen
  }

  update(bytes) {
    let offset = 0;
    this.length += bytes.length;
    if (this.pendingLength) {
      const take = Math.min(64 - this.pendingLength, bytes.length);
      this.pending.set(bytes.subarray(0, take), this.pendingLength);
      this.pendingLength += take;
      offset = take;
      if (this.pendingLength < 64) return this;
      this.block(new DataView(this.pending.buffer), 0);
      this.pendingLength = 0;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (; offset + 64 <= bytes.length; offset += 64) this.block(view, offset);
    this.pending.set(bytes.subarray(offset), 0);
    this.pendingLength = bytes.length - offset;
    return this;
  }

  // The padding both hashes share: 0x80, zeros, then the length in bits (8 bytes).
  pad(littleEndian) {
    const bits = this.length * 8;
    const tail = new Uint8Array((this.pendingLength < 56 ? 64 : 128) - this.pendingLength);
    tail[0] = 0x80;
    const view = new DataView(tail.buffer);
    const low = bits >>> 0;
    const high = Math.floor(bits / 2 ** 32) >>> 0;
    if (littleEndian) {
      view.setUint32(tail.length - 8, low, true);
      view.setUint32(tail.length - 4, high, true);
    } else {
      view.setUint32(tail.length - 8, high, false);
      view.setUint32(tail.length - 4, low, false);
    }
    const length = this.length;
    this.update(tail);
    this.length = length;
  }
}

export class Md5 extends BlockHash {
  constructor() {
    super();
    this.state = Int32Array.of(0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476);
  }

  block(view, offset) {
    const m0 = view.getInt32(offset, true), m1 = view.getInt32(offset + 4, true);
    const m2 = view.getInt32(offset + 8, true), m3 = view.getInt32(offset + 12, true);
    const m4 = view.getInt32(offset + 16, true), m5 = view.getInt32(offset + 20, true);
    const m6 = view.getInt32(offset + 24, true), m7 = view.getInt32(offset + 28, true);
    const m8 = view.getInt32(offset + 32, true), m9 = view.getInt32(offset + 36, true);
    const m10 = view.getInt32(offset + 40, true), m11 = view.getInt32(offset + 44, true);
    const m12 = view.getInt32(offset + 48, true), m13 = view.getInt32(offset + 52, true);
    const m14 = view.getInt32(offset + 56, true), m15 = view.getInt32(offset + 60, true);
    const s = this.state;
    let a = s[0], b = s[1], c = s[2], d = s[3];
    a = (a + ((b & c) | (~b & d)) + 0xd76aa478 + m0) | 0;
    a = ((a << 7) | (a >>> 25)) + b | 0;
    d = (d + ((a & b) | (~a & c)) + 0xe8c7b756 + m1) | 0;
    d = ((d << 12) | (d >>> 20)) + a | 0;
    c = (c + ((d & a) | (~d & b)) + 0x242070db + m2) | 0;
    c = ((c << 17) | (c >>> 15)) + d | 0;
    b = (b + ((c & d) | (~c & a)) + 0xc1bdceee + m3) | 0;
    b = ((b << 22) | (b >>> 10)) + c | 0;
    a = (a + ((b & c) | (~b & d)) + 0xf57c0faf + m4) | 0;
    a = ((a << 7) | (a >>> 25)) + b | 0;
    d = (d + ((a & b) | (~a & c)) + 0x4787c62a + m5) | 0;
    d = ((d << 12) | (d >>> 20)) + a | 0;
    c = (c + ((d & a) | (~d & b)) + 0xa8304613 + m6) | 0;
    c = ((c << 17) | (c >>> 15)) + d | 0;
    b = (b + ((c & d) | (~c & a)) + 0xfd469501 + m7) | 0;
    b = ((b << 22) | (b >>> 10)) + c | 0;
    a = (a + ((b & c) | (~b & d)) + 0x698098d8 + m8) | 0;
    a = ((a << 7) | (a >>> 25)) + b | 0;
    d = (d + ((a & b) | (~a & c)) + 0x8b44f7af + m9) | 0;
    d = ((d << 12) | (d >>> 20)) + a | 0;
    c = (c + ((d & a) | (~d & b)) + 0xffff5bb1 + m10) | 0;
    c = ((c << 17) | (c >>> 15)) + d | 0;
    b = (b + ((c & d) | (~c & a)) + 0x895cd7be + m11) | 0;
    b = ((b << 22) | (b >>> 10)) + c | 0;
    a = (a + ((b & c) | (~b & d)) + 0x6b901122 + m12) | 0;
    a = ((a << 7) | (a >>> 25)) + b | 0;
    d = (d + ((a & b) | (~a & c)) + 0xfd987193 + m13) | 0;
    d = ((d << 12) | (d >>> 20)) + a | 0;
    c = (c + ((d & a) | (~d & b)) + 0xa679438e + m14) | 0;
    c = ((c << 17) | (c >>> 15)) + d | 0;
    b = (b + ((c & d) | (~c & a)) + 0x49b40821 + m15) | 0;
    b = ((b << 22) | (b >>> 10)) + c | 0;
    a = (a + ((d & b) | (~d & c)) + 0xf61e2562 + m1) | 0;
    a = ((a << 5) | (a >>> 27)) + b | 0;
    d = (d + ((c & a) | (~c & b)) + 0xc040b340 + m6) | 0;
    d = ((d << 9) | (d >>> 23)) + a | 0;
    c = (c + ((b & d) | (~b & a)) + 0x265e5a51 + m11) | 0;
    c = ((c << 14) | (c >>> 18)) + d | 0;
    b = (b + ((a & c) | (~a & d)) + 0xe9b6c7aa + m0) | 0;
    b = ((b << 20) | (b >>> 12)) + c | 0;
    a = (a + ((d & b) | (~d & c)) + 0xd62f105d + m5) | 0;
    a = ((a << 5) | (a >>> 27)) + b | 0;
    d = (d + ((c & a) | (~c & b)) + 0x02441453 + m10) | 0;
    d = ((d << 9) | (d >>> 23)) + a | 0;
    c = (c + ((b & d) | (~b & a)) + 0xd8a1e681 + m15) | 0;
    c = ((c << 14) | (c >>> 18)) + d | 0;
    b = (b + ((a & c) | (~a & d)) + 0xe7d3fbc8 + m4) | 0;
    b = ((b << 20) | (b >>> 12)) + c | 0;
    a = (a + ((d & b) | (~d & c)) + 0x21e1cde6 + m9) | 0;
    a = ((a << 5) | (a >>> 27)) + b | 0;
    d = (d + ((c & a) | (~c & b)) + 0xc33707d6 + m14) | 0;
    d = ((d << 9) | (d >>> 23)) + a | 0;
    c = (c + ((b & d) | (~b & a)) + 0xf4d50d87 + m3) | 0;
    c = ((c << 14) | (c >>> 18)) + d | 0;
    b = (b + ((a & c) | (~a & d)) + 0x455a14ed + m8) | 0;
    b = ((b << 20) | (b >>> 12)) + c | 0;
    a = (a + ((d & b) | (~d & c)) + 0xa9e3e905 + m13) | 0;
    a = ((a << 5) | (a >>> 27)) + b | 0;
    d = (d + ((c & a) | (~c & b)) + 0xfcefa3f8 + m2) | 0;
    d = ((d << 9) | (d >>> 23)) + a | 0;
    c = (c + ((b & d) | (~b & a)) + 0x676f02d9 + m7) | 0;
    c = ((c << 14) | (c >>> 18)) + d | 0;
    b = (b + ((a & c) | (~a & d)) + 0x8d2a4c8a + m12) | 0;
    b = ((b << 20) | (b >>> 12)) + c | 0;
    a = (a + (b ^ c ^ d) + 0xfffa3942 + m5) | 0;
    a = ((a << 4) | (a >>> 28)) + b | 0;
    d = (d + (a ^ b ^ c) + 0x8771f681 + m8) | 0;
    d = ((d << 11) | (d >>> 21)) + a | 0;
    c = (c + (d ^ a ^ b) + 0x6d9d6122 + m11) | 0;
    c = ((c << 16) | (c >>> 16)) + d | 0;
    b = (b + (c ^ d ^ a) + 0xfde5380c + m14) | 0;
    b = ((b << 23) | (b >>> 9)) + c | 0;
    a = (a + (b ^ c ^ d) + 0xa4beea44 + m1) | 0;
    a = ((a << 4) | (a >>> 28)) + b | 0;
    d = (d + (a ^ b ^ c) + 0x4bdecfa9 + m4) | 0;
    d = ((d << 11) | (d >>> 21)) + a | 0;
    c = (c + (d ^ a ^ b) + 0xf6bb4b60 + m7) | 0;
    c = ((c << 16) | (c >>> 16)) + d | 0;
    b = (b + (c ^ d ^ a) + 0xbebfbc70 + m10) | 0;
    b = ((b << 23) | (b >>> 9)) + c | 0;
    a = (a + (b ^ c ^ d) + 0x289b7ec6 + m13) | 0;
    a = ((a << 4) | (a >>> 28)) + b | 0;
    d = (d + (a ^ b ^ c) + 0xeaa127fa + m0) | 0;
    d = ((d << 11) | (d >>> 21)) + a | 0;
    c = (c + (d ^ a ^ b) + 0xd4ef3085 + m3) | 0;
    c = ((c << 16) | (c >>> 16)) + d | 0;
    b = (b + (c ^ d ^ a) + 0x04881d05 + m6) | 0;
    b = ((b << 23) | (b >>> 9)) + c | 0;
    a = (a + (b ^ c ^ d) + 0xd9d4d039 + m9) | 0;
    a = ((a << 4) | (a >>> 28)) + b | 0;
    d = (d + (a ^ b ^ c) + 0xe6db99e5 + m12) | 0;
    d = ((d << 11) | (d >>> 21)) + a | 0;
    c = (c + (d ^ a ^ b) + 0x1fa27cf8 + m15) | 0;
    c = ((c << 16) | (c >>> 16)) + d | 0;
    b = (b + (c ^ d ^ a) + 0xc4ac5665 + m2) | 0;
    b = ((b << 23) | (b >>> 9)) + c | 0;
    a = (a + (c ^ (b | ~d)) + 0xf4292244 + m0) | 0;
    a = ((a << 6) | (a >>> 26)) + b | 0;
    d = (d + (b ^ (a | ~c)) + 0x432aff97 + m7) | 0;
    d = ((d << 10) | (d >>> 22)) + a | 0;
    c = (c + (a ^ (d | ~b)) + 0xab9423a7 + m14) | 0;
    c = ((c << 15) | (c >>> 17)) + d | 0;
    b = (b + (d ^ (c | ~a)) + 0xfc93a039 + m5) | 0;
    b = ((b << 21) | (b >>> 11)) + c | 0;
    a = (a + (c ^ (b | ~d)) + 0x655b59c3 + m12) | 0;
    a = ((a << 6) | (a >>> 26)) + b | 0;
    d = (d + (b ^ (a | ~c)) + 0x8f0ccc92 + m3) | 0;
    d = ((d << 10) | (d >>> 22)) + a | 0;
    c = (c + (a ^ (d | ~b)) + 0xffeff47d + m10) | 0;
    c = ((c << 15) | (c >>> 17)) + d | 0;
    b = (b + (d ^ (c | ~a)) + 0x85845dd1 + m1) | 0;
    b = ((b << 21) | (b >>> 11)) + c | 0;
    a = (a + (c ^ (b | ~d)) + 0x6fa87e4f + m8) | 0;
    a = ((a << 6) | (a >>> 26)) + b | 0;
    d = (d + (b ^ (a | ~c)) + 0xfe2ce6e0 + m15) | 0;
    d = ((d << 10) | (d >>> 22)) + a | 0;
    c = (c + (a ^ (d | ~b)) + 0xa3014314 + m6) | 0;
    c = ((c << 15) | (c >>> 17)) + d | 0;
    b = (b + (d ^ (c | ~a)) + 0x4e0811a1 + m13) | 0;
    b = ((b << 21) | (b >>> 11)) + c | 0;
    a = (a + (c ^ (b | ~d)) + 0xf7537e82 + m4) | 0;
    a = ((a << 6) | (a >>> 26)) + b | 0;
    d = (d + (b ^ (a | ~c)) + 0xbd3af235 + m11) | 0;
    d = ((d << 10) | (d >>> 22)) + a | 0;
    c = (c + (a ^ (d | ~b)) + 0x2ad7d2bb + m2) | 0;
    c = ((c << 15) | (c >>> 17)) + d | 0;
    b = (b + (d ^ (c | ~a)) + 0xeb86d391 + m9) | 0;
    b = ((b << 21) | (b >>> 11)) + c | 0;
    s[0] = (s[0] + a) | 0;
    s[1] = (s[1] + b) | 0;
    s[2] = (s[2] + c) | 0;
    s[3] = (s[3] + d) | 0;
  }

  hex() {
    this.pad(true);
    const out = new DataView(new ArrayBuffer(16));
    this.state.forEach((word, i) => out.setInt32(i * 4, word, true));
    return toHex(new Uint8Array(out.buffer));
  }
}

// --- SHA-256 (FIPS 180-4) ------------------------------------------------------------------------

const SHA_K = Int32Array.of(
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
);

export class Sha256 extends BlockHash {
  constructor() {
    super();
    this.state = Int32Array.of(
      0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    );
    this.words = new Int32Array(64);
  }

  block(view, offset) {
    const w = this.words;
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(offset + i * 4, false);
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15];
      const y = w[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let [a, b, c, d, e, f, g, h] = this.state;
    for (let i = 0; i < 64; i++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + s1 + ((e & f) ^ (~e & g)) + SHA_K[i] + w[i]) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    const s = this.state;
    s[0] = (s[0] + a) | 0;
    s[1] = (s[1] + b) | 0;
    s[2] = (s[2] + c) | 0;
    s[3] = (s[3] + d) | 0;
    s[4] = (s[4] + e) | 0;
    s[5] = (s[5] + f) | 0;
    s[6] = (s[6] + g) | 0;
    s[7] = (s[7] + h) | 0;
  }

  hex() {
    this.pad(false);
    const out = new DataView(new ArrayBuffer(32));
    this.state.forEach((word, i) => out.setInt32(i * 4, word, false));
    return toHex(new Uint8Array(out.buffer));
  }
}

export function toHex(bytes) {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

// MD5 and SHA-256 of bytes already in memory (a picture, which is decoded from the same bytes).
export async function digestBytes(bytes) {
  const sha = globalThis.crypto?.subtle ? crypto.subtle.digest("SHA-256", bytes) : null;
  const md5 = new Md5().update(bytes).hex();
  const sha256 = sha ? toHex(new Uint8Array(await sha)) : new Sha256().update(bytes).hex();
  return { md5, sha256 };
}

// MD5 and SHA-256 of a Blob (a File). `onProgress(fraction)` is called after each chunk. Small
// files are read once and SHA-256 goes to WebCrypto; large ones are read chunk by chunk (`limits`
// lets a test take the chunked path with a small file).
export async function digestBlob(blob, onProgress = () => {}, limits = {}) {
  const { wholeFile = WHOLE_FILE_LIMIT, chunk = CHUNK } = limits;
  if (blob.size <= wholeFile && globalThis.crypto?.subtle) {
    const digests = await digestBytes(new Uint8Array(await blob.arrayBuffer()));
    onProgress(1);
    return digests;
  }
  const md5 = new Md5();
  const sha = new Sha256();
  for (let offset = 0; offset < blob.size; offset += chunk) {
    const bytes = new Uint8Array(await blob.slice(offset, offset + chunk).arrayBuffer());
    md5.update(bytes);
    sha.update(bytes);
    onProgress(Math.min(1, (offset + bytes.length) / blob.size));
  }
  return { md5: md5.hex(), sha256: sha.hex() };
}
