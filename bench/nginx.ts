// nginx serving a directory of static files on loopback: the reference server of the
// serve benchmark and the upstream of the sync benchmark (a mirror is static files).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Nginx {
  /** Base URL without a trailing slash. */
  url: string;
  stop(): Promise<void>;
}

let nextPort = 20000 + (process.pid % 20000);

/** Starts nginx (2 workers, sendfile, keep-alive) serving `root`; its files go in `work`. */
export async function startNginx(work: string, root: string): Promise<Nginx> {
  await mkdir(work, { recursive: true });
  const port = nextPort++;
  const conf = join(work, 'nginx.conf');
  await writeFile(
    conf,
    `worker_processes 2;
daemon off;
pid ${join(work, 'nginx.pid')};
error_log ${join(work, 'nginx-error.log')};
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  types { application/x-rpm rpm; application/xml xml; application/gzip gz; }
  default_type application/octet-stream;
  client_body_temp_path ${work}/nginx-body;
  proxy_temp_path ${work}/nginx-proxy;
  fastcgi_temp_path ${work}/nginx-fastcgi;
  uwsgi_temp_path ${work}/nginx-uwsgi;
  scgi_temp_path ${work}/nginx-scgi;
  server { listen 127.0.0.1:${port}; root ${root}; }
}
`,
  );
  const child: ChildProcess = spawn('nginx', ['-c', conf, '-p', work], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  if (child.exitCode !== null) throw new Error(`nginx did not start (see ${join(work, 'nginx-error.log')}); install it: apt-get install nginx-light`);
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
