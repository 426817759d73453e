/**
 * Worker thread of fold-fits.ts: builds the fold parts once from the data it was started with, then answers one fit
 * per message. The margins go back transferred, not copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fitFold, foldParts, type FoldReply, type FoldRequest, type FoldWorkerData } from './fold-fits.js';

const port = parentPort;
if (port === null) throw new Error('fold-worker runs on a worker thread only');
const { data, folds, seed } = workerData as FoldWorkerData;
const parts = foldParts(data, folds);

port.on('message', (request: FoldRequest) => {
  try {
    const fit = fitFold(parts, request, seed);
    const reply: FoldReply = { id: request.id, bestRounds: fit.bestRounds, valMargin: fit.valMargin };
    // Moved, not copied (Float64Array.from gave the margins an ArrayBuffer of their own).
    const { buffer } = fit.valMargin;
    port.postMessage(reply, buffer instanceof ArrayBuffer ? [buffer] : []);
  } catch (error) {
    const reply: FoldReply = {
      id: request.id,
      error: error instanceof Error ? error.message : String(error),
    };
    port.postMessage(reply);
  }
});
port.postMessage({ ready: true } satisfies FoldReply);
