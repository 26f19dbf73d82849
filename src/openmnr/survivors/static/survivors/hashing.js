// A small pool of fingerprinting workers (hasher.js), one file per worker at a time, as many
// workers as the device has cores (at most MAX_WORKERS). Where module workers are not available
// the files are fingerprinted on the page's own thread, one after the other.

import { fingerprint } from "./fingerprint.js";

const MAX_WORKERS = 4;

export class Fingerprinter {
  constructor(size = Math.min(navigator.hardwareConcurrency || 2, MAX_WORKERS)) {
    this.size = Math.max(1, size);
    this.workers = [];
    this.idle = [];
    this.queue = [];
    this.calls = new Map();
    this.nextId = 1;
    this.inline = false;
  }

  // Resolves to fingerprint()'s result; rejects with an Error carrying `code`.
  hash(file, onProgress = () => {}) {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, file, resolve, reject, onProgress });
      this.pump();
    });
  }

  pump() {
    while (this.queue.length) {
      const worker = this.takeWorker();
      if (worker === null) return;
      const job = this.queue.shift();
      this.calls.set(job.id, { ...job, worker });
      if (worker === "inline") {
        fingerprint(job.file, job.onProgress).then(
          (result) => this.settle(job.id, { result }),
          (error) => this.settle(job.id, { error: { code: error.code || "unreadable", message: String(error.message) } }),
        );
      } else {
        worker.postMessage({ id: job.id, file: job.file });
      }
    }
  }

  takeWorker() {
    if (this.idle.length) return this.idle.pop();
    if (this.inline) return this.calls.size ? null : "inline";
    if (this.workers.length < this.size) {
      try {
        const worker = new Worker(new URL("./hasher.js", import.meta.url), { type: "module" });
        worker.onmessage = ({ data }) => this.settle(data.id, data);
        worker.onerror = () => this.fallBack(worker);
        this.workers.push(worker);
        return worker;
      } catch {
        this.inline = true;
        return this.calls.size ? null : "inline";
      }
    }
    return null;
  }

  // A worker that fails to start (an old browser without module workers): finish on the page.
  fallBack(worker) {
    this.inline = true;
    this.workers = this.workers.filter((w) => w !== worker);
    worker.terminate();
    for (const [id, call] of this.calls) {
      if (call.worker === worker) {
        this.calls.delete(id);
        this.queue.unshift(call);
      }
    }
    this.pump();
  }

  settle(id, data) {
    const call = this.calls.get(id);
    if (!call) return;
    if ("progress" in data) {
      call.onProgress(data.progress);
      return;
    }
    this.calls.delete(id);
    if (call.worker !== "inline") this.idle.push(call.worker);
    if (data.error) {
      call.reject(Object.assign(new Error(data.error.message), { code: data.error.code }));
    } else {
      call.resolve(data.result);
    }
    this.pump();
  }

  close() {
    for (const worker of this.workers) worker.terminate();
    this.workers = [];
    this.idle = [];
  }
}
