// The fingerprinting worker: one file at a time, off the page's thread so the page stays responsive.
import { fingerprint } from "./fingerprint.js";

self.onmessage = async ({ data: { id, file } }) => {
  try {
    const result = await fingerprint(file, (progress) => self.postMessage({ id, progress }));
    self.postMessage({ id, result });
  } catch (error) {
    self.postMessage({ id, error: { code: error.code || "unreadable", message: String(error.message || error) } });
  }
};
