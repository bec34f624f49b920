// The worker pool's job modules serve batches only in the workers a pool started for
// them: the same modules are imported by code that may run in a worker thread of its
// own (a reader of the store in a test's probe thread), whose messages are its own.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';

const JOB_MODULES = ['../../src/snapshots/render-worker.ts', '../../src/createrepo/read-worker.ts', '../../src/sync/inspect-worker.ts'];

test("a job module imported in someone else's worker thread leaves that thread's messages alone", async () => {
  const urls = JOB_MODULES.map((m) => new URL(m, import.meta.url).href);
  // The thread imports every job module, then answers each message it gets, once.
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    Promise.all(workerData.urls.map((u) => import(u))).then(() => {
      parentPort.on('message', (m) => parentPort.postMessage({ echo: m }));
      parentPort.postMessage('ready');
    });`;
  const worker = new Worker(code, { eval: true, workerData: { urls } });
  try {
    const received: unknown[] = [];
    worker.on('message', (m) => received.push(m));
    while (!received.includes('ready')) await once(worker, 'message');
    worker.postMessage('stop');
    worker.postMessage(['not', 'a', 'batch']);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(received, ['ready', { echo: 'stop' }, { echo: ['not', 'a', 'batch'] }]);
  } finally {
    await worker.terminate();
  }
});
