// Turning a picture file into the luma plane PDQ needs, with the browser's own decoders and the
// EXIF orientation applied as the server applies it. Runs in a worker or on the page.
//
// Small and medium pictures (up to FULL_DECODE_PIXELS) are decoded at full resolution and hashed
// with the reference algorithm: on the same pixels the result is the reference's, bit for bit.
// A large JPEG (a phone's 12-megapixel photo) is decoded at 1/2, 1/4 or 1/8 scale by the JPEG
// decoder itself (WebCodecs ImageDecoder with a desired size: libjpeg's DCT scaling, which skips
// most of the decoding work) and hashed with the reduced-scale model (pdq.js, pdqFromReduced), as
// the server's fast mode does. A browser without ImageDecoder decodes in full (createImageBitmap):
// slower, same result.
//
// Orientation: ImageDecoder hands back the stored pixels with the rotation and flip the browser read
// from the file; they are applied here to the luma plane. createImageBitmap applies them itself
// (imageOrientation: "from-image"). Colour profiles are not applied (colorSpaceConversion "none"),
// as the server does not apply them either; alpha is ignored, as the reference ignores it.

import { lumaFromRGBA, pdqFromLuma, pdqFromReduced } from "./pdq.js";

export const FULL_DECODE_PIXELS = 4_000_000;
// A reduced decode keeps at least this many pixels on each side (the server's FAST_MIN_SIDE).
export const REDUCED_MIN_SIDE = 256;
export const MAX_PIXELS = 64_000_000;

export class PictureError extends Error {
  // code: "unsupported" (the browser cannot decode this format), "unreadable" (damaged file),
  // "too_large" (over MAX_PIXELS).
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// "photo", "video" or null, from the first bytes (as the server's media.sniff does), with the MIME
// type the decoders need.
export function sniff(head) {
  const ascii = (from, to) => String.fromCharCode(...head.subarray(from, to));
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return { kind: "photo", type: "image/jpeg" };
  if (head[0] === 0x89 && ascii(1, 4) === "PNG") return { kind: "photo", type: "image/png" };
  if (ascii(0, 4) === "GIF8") return { kind: "photo", type: "image/gif" };
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return { kind: "photo", type: "image/webp" };
  if (ascii(0, 2) === "BM") return { kind: "photo", type: "image/bmp" };
  if (ascii(4, 8) === "ftyp") {
    const brand = ascii(8, 12);
    if (["heic", "heix", "hevc", "mif1", "msf1"].includes(brand)) return { kind: "photo", type: "image/heic" };
    if (["avif", "avis"].includes(brand)) return { kind: "photo", type: "image/avif" };
    return { kind: "video", type: "video/mp4" };
  }
  if (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) {
    return { kind: "video", type: "video/webm" };
  }
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "AVI ") return { kind: "video", type: "video/x-msvideo" };
  return null;
}

// Width and height stored in a JPEG's frame header (SOFn), or null.
export function jpegSize(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 2;
  while (offset + 9 < bytes.length) {
    if (bytes[offset] !== 0xff) return null;
    const marker = bytes[offset + 1];
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    const length = view.getUint16(offset + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return { height: view.getUint16(offset + 5), width: view.getUint16(offset + 7) };
    offset += 2 + length;
  }
  return null;
}

// (rotation clockwise, then horizontal flip) -> EXIF orientation, and which upright axes
// (rows, columns) run backwards through the stored picture.
const ORIENTATIONS = {
  "0,false": [1, [false, false]],
  "0,true": [2, [false, true]],
  "180,false": [3, [true, true]],
  "180,true": [4, [true, false]],
  "90,true": [5, [false, false]],
  "90,false": [6, [false, true]],
  "270,true": [7, [true, true]],
  "270,false": [8, [true, false]],
};

// The PDQ hash and quality of a picture. `bytes`: the whole file (a Uint8Array), `type`: its MIME type.
export async function hashPicture(bytes, type) {
  const size = type === "image/jpeg" ? jpegSize(bytes) : null;
  if (size && size.width * size.height > MAX_PIXELS) {
    throw new PictureError("too_large", "the picture has too many pixels");
  }
  const scale = size ? reducedScale(size.width, size.height) : 1;
  const canReduce = scale > 1 && size.width * size.height > FULL_DECODE_PIXELS && (await decoderSupports(type));
  if (canReduce) {
    const decoded = await decodeWithImageDecoder(bytes, type, {
      desiredWidth: Math.ceil(size.width / scale),
      desiredHeight: Math.ceil(size.height / scale),
    });
    const expected = decoded && decoded.storedWidth === Math.ceil(size.width / scale)
      && decoded.storedHeight === Math.ceil(size.height / scale);
    if (expected) {
      const turned = decoded.orientation >= 5;
      const result = pdqFromReduced(decoded.luma, decoded.width, decoded.height, {
        fullWidth: turned ? size.height : size.width,
        fullHeight: turned ? size.width : size.height,
        scale,
        jpegScaled: true,
        reversed: decoded.reversed,
      });
      return { ...result, path: `reduced-1/${scale}` };
    }
    // The decoder gave another size than asked: hash what it gave at full resolution below.
  }
  const decoded = await decodeWithBitmap(bytes, type);
  if (decoded.width * decoded.height > MAX_PIXELS) {
    throw new PictureError("too_large", "the picture has too many pixels");
  }
  return { ...pdqFromLuma(decoded.luma, decoded.width, decoded.height), path: "reference" };
}

// The largest of 8, 4, 2 that keeps both sides at REDUCED_MIN_SIDE pixels or more (else 1).
export function reducedScale(width, height) {
  for (const scale of [8, 4, 2]) {
    if (Math.ceil(width / scale) >= REDUCED_MIN_SIDE && Math.ceil(height / scale) >= REDUCED_MIN_SIDE) {
      return scale;
    }
  }
  return 1;
}

const supported = new Map();

async function decoderSupports(type) {
  if (!("ImageDecoder" in globalThis)) return false;
  if (!supported.has(type)) {
    supported.set(type, await ImageDecoder.isTypeSupported(type).catch(() => false));
  }
  return supported.get(type);
}

// Decode the first frame with WebCodecs; return the upright luma plane.
async function decodeWithImageDecoder(bytes, type, size) {
  let decoder;
  let frame;
  try {
    decoder = new ImageDecoder({
      data: bytes,
      type,
      colorSpaceConversion: "none",
      premultiplyAlpha: "none",
      preferAnimation: false,
      ...size,
    });
    ({ image: frame } = await decoder.decode({ frameIndex: 0, completeFramesOnly: true }));
  } catch (error) {
    decoder?.close();
    throw new PictureError("unreadable", `the browser could not decode the picture (${error.name})`);
  }
  try {
    const storedWidth = frame.visibleRect ? frame.visibleRect.width : frame.codedWidth;
    const storedHeight = frame.visibleRect ? frame.visibleRect.height : frame.codedHeight;
    const stored = await storedLuma(frame, storedWidth, storedHeight);
    if (stored === null) return null;
    const key = `${frame.rotation || 0},${Boolean(frame.flip)}`;
    const [orientation, reversed] = ORIENTATIONS[key] || ORIENTATIONS["0,false"];
    const upright = orient(stored, storedWidth, storedHeight, frame.rotation || 0, Boolean(frame.flip));
    return { ...upright, storedWidth, storedHeight, orientation, reversed };
  } finally {
    frame.close();
    decoder.close();
  }
}

// The stored (not yet oriented) luma of a decoded frame. RGB formats are converted with the
// reference's coefficients; planar YUV frames give their Y plane, which is that same luma.
async function storedLuma(frame, width, height) {
  const rect = { x: frame.visibleRect?.x || 0, y: frame.visibleRect?.y || 0, width, height };
  const format = frame.format;
  if (["RGBA", "RGBX", "BGRA", "BGRX"].includes(format)) {
    const pixels = new Uint8Array(width * height * 4);
    await frame.copyTo(pixels, { rect, layout: [{ offset: 0, stride: width * 4 }] });
    return lumaFromRGBA(pixels, width, height, format.startsWith("BGR"));
  }
  if (format && /^(I4[024]0|I4[024][24]|NV12)/.test(format)) {
    const buffer = new Uint8Array(frame.allocationSize({ rect }));
    const [{ offset, stride }] = await frame.copyTo(buffer, { rect });
    const luma = new Float32Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) luma[y * width + x] = buffer[offset + y * stride + x];
    }
    return luma;
  }
  return null; // another pixel format (a high bit depth, say): the caller decodes another way
}

// Apply a clockwise rotation then a horizontal flip to a luma plane.
export function orient(luma, width, height, rotation, flip) {
  if (!rotation && !flip) return { luma, width, height };
  const turned = rotation === 90 || rotation === 270;
  const outWidth = turned ? height : width;
  const outHeight = turned ? width : height;
  const out = new Float32Array(width * height);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const fx = flip ? outWidth - 1 - x : x; // position before the flip
      let sx;
      let sy;
      if (rotation === 90) {
        sx = y;
        sy = height - 1 - fx;
      } else if (rotation === 180) {
        sx = width - 1 - fx;
        sy = height - 1 - y;
      } else if (rotation === 270) {
        sx = width - 1 - y;
        sy = fx;
      } else {
        sx = fx;
        sy = y;
      }
      out[y * outWidth + x] = luma[sy * width + sx];
    }
  }
  return { luma: out, width: outWidth, height: outHeight };
}

// Decode through createImageBitmap (browsers without WebCodecs' ImageDecoder): upright RGBA pixels
// from a canvas.
async function decodeWithBitmap(bytes, type) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes], { type }), {
      imageOrientation: "from-image",
      colorSpaceConversion: "none",
      premultiplyAlpha: "none",
    });
  } catch (error) {
    throw new PictureError("unreadable", `the browser could not decode the picture (${error.name})`);
  }
  const { width, height } = bitmap;
  if (width * height > MAX_PIXELS) {
    bitmap.close();
    throw new PictureError("too_large", "the picture has too many pixels");
  }
  const canvas = typeof OffscreenCanvas === "function"
    ? new OffscreenCanvas(width, height)
    : Object.assign(document.createElement("canvas"), { width, height });
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const pixels = context.getImageData(0, 0, width, height).data;
  return { luma: lumaFromRGBA(pixels, width, height), width, height };
}
