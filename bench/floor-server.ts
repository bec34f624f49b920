// The runtime's floor for the serve benchmark (bench/serve.ts): a bare node:http server,
// one process per core as `txrepo serve` runs by default (at most 8), that answers each
// request with the file of that path under ROOT: opened, read and sent in one write, as
// txrepo's file path does, and nothing else (no routing, catalog lookup, access rule or
// check). What any Node.js server can reach on this machine, to read txrepo's ratio
// against nginx beside. A benchmark tool only: it serves whatever ROOT holds.
//
//   node bench/floor-server.ts ROOT   → prints "listening on http://127.0.0.1:PORT"

import cluster from 'node:cluster';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism } from 'node:os';

const root = process.argv[2]!;
const workers = Math.min(availableParallelism(), 8);

if (cluster.isPrimary) {
  let listening = 0;
  cluster.on('listening', (_worker, address) => {
    if (++listening === workers) console.log(`listening on http://127.0.0.1:${address.port}`);
  });
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path.split('/').includes('..')) return void res.writeHead(400).end();
    let fd: number;
    try {
      fd = openSync(root + path, 'r');
    } catch {
      return void res.writeHead(404).end();
    }
    try {
      const size = fstatSync(fd).size;
      const body = Buffer.allocUnsafe(size);
      for (let at = 0; at < size; ) {
        const n = readSync(fd, body, at, size - at, at);
        if (n === 0) return void res.writeHead(500).end(); // the file shrank: never send unread bytes
        at += n;
      }
      res.writeHead(200, { 'content-type': 'application/x-rpm', 'content-length': String(size), 'cache-control': 'public, max-age=31536000, immutable' });
      res.end(body);
    } finally {
      closeSync(fd);
    }
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
}
