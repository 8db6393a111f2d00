// Printing and HTTP helpers for the demo.
import type { Redis } from 'ioredis';

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const c = (code: string, s: string) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s);

export class Printer {
  failures = 0;
  title(s: string) {
    console.log(`\n${c('1', s)}\n${'═'.repeat(Math.min(s.length, 100))}`);
  }
  section(s: string) {
    console.log(`\n${c('1;36', s)}`);
  }
  step(s: string) {
    console.log(`${c('2', '…')} ${s}`);
  }
  ok(s: string) {
    console.log(`${c('32', '✔')} ${s}`);
  }
  item(s: string) {
    console.log(`  • ${s}`);
  }
  note(s: string) {
    console.log(`  ${c('2', s)}`);
  }
  check(pass: boolean, s: string) {
    if (!pass) this.failures++;
    console.log(`${pass ? c('32', '✔') : c('31', '✖')} ${s}`);
  }
  fail(s: string) {
    this.failures++;
    console.error(`${c('31', '✖')} ${s}`);
  }
}

export interface Api {
  call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: any }>;
}

export function makeApi(baseUrl: string): Api {
  return {
    async call(method, path, token, body) {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
  };
}

export async function deleteRedisKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
