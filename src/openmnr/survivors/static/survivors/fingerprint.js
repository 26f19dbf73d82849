// One file in, its fingerprints out: what the survivors' page sends instead of the file.
//
// A picture gets its PDQ hash (with its quality), MD5 and SHA-256; a video its MD5 and SHA-256 (as
// StopNCII does: platforms compare the exact file). Everything happens here, in the browser: this
// module has no network access of its own, and nothing it returns can be turned back into the
// picture (a PDQ hash keeps only the signs of 256 frequency coefficients of a 64x64 blur).

import { digestBlob, digestBytes } from "./digests.js";
import { hashPicture, PictureError, sniff } from "./images.js";

export { PictureError };
export const MAX_PHOTO_BYTES = 50 * 1024 * 1024;
export const MAX_VIDEO_BYTES = 4 * 1024 * 1024 * 1024;

export async function fingerprint(file, onProgress = () => {}) {
  const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
  const sniffed = sniff(head);
  if (!sniffed) throw new PictureError("unsupported", "not a picture or video format we know");
  const limit = sniffed.kind === "photo" ? MAX_PHOTO_BYTES : MAX_VIDEO_BYTES;
  if (file.size > limit) throw new PictureError("too_large", "the file is too large");
  if (file.size === 0) throw new PictureError("unreadable", "the file is empty");
  if (sniffed.kind === "video") {
    const { md5, sha256 } = await digestBlob(file, onProgress);
    return { kind: "video", md5, sha256 };
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  // The decoder works on its own thread while this one computes the digests.
  const picture = hashPicture(bytes, sniffed.type);
  picture.catch(() => {});
  const { md5, sha256 } = await digestBytes(bytes);
  onProgress(1);
  const { hash, quality, path } = await picture;
  return { kind: "photo", md5, sha256, pdq: hash, pdqQuality: quality, path };
}
