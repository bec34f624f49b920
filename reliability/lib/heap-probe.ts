// Preloaded (node --expose-gc --import) into `txrepo serve` by the load scenario: on
// SIGUSR2, collects garbage fully and appends the live heap to $TXREPO_HEAP_FILE as
// "heapUsed external arrayBuffers" (bytes). A leak then shows as live memory that
// grows, not hidden in (or mistaken for) the freed heap V8 keeps committed, which
// makes the resident size of a busy Node process drift up and down by tens of MiB.
import { appendFileSync } from 'node:fs';

const file = process.env.TXREPO_HEAP_FILE;
if (file) {
  process.on('SIGUSR2', () => {
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    appendFileSync(file, `${m.heapUsed} ${m.external} ${m.arrayBuffers}\n`);
  });
}
