// A slow network link for tests: a TCP proxy on loopback that forwards to a server at
// about `bytesPerSecond` each way, so that a transfer of a few sample packages lasts
// long enough to watch (a progress bar shows only once a stage has run half a second).

import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SlowLink {
  /** http://127.0.0.1:PORT: the target's URL, through the link. */
  url: string;
  close(): Promise<void>;
}

/** Copies `from` to `to` in pieces of at most `piece` bytes, pausing after each as the rate asks. */
function throttle(from: Socket, to: Socket, bytesPerSecond: number, piece = 1024): void {
  from.on('data', (chunk: Buffer) => {
    from.pause();
    void (async () => {
      for (let i = 0; i < chunk.length && !to.destroyed; i += piece) {
        const part = chunk.subarray(i, i + piece);
        to.write(part);
        await sleep((part.length / bytesPerSecond) * 1000);
      }
      from.resume();
    })();
  });
  from.on('end', () => to.end());
  from.on('error', () => to.destroy());
  from.on('close', () => to.destroy());
}

/** A link to `target` (http://HOST:PORT[/path]); the URL it gives keeps the path. */
export async function slowLink(target: string, bytesPerSecond: number): Promise<SlowLink> {
  const t = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(t.port), t.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    }
    throttle(client, upstream, bytesPerSecond);
    throttle(upstream, client, bytesPerSecond);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = new URL(target);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.href.replace(/\/$/, ''),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
