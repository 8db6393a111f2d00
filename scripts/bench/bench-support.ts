// Small helpers shared by the benchmarks.

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** `--name value` flags with numeric defaults. */
export function parseArgs<T extends Record<string, number>>(argv: string[], defaults: T): T {
  const out: Record<string, number> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const name = a.slice(2);
    if (!(name in defaults)) throw new Error(`unknown option ${a} (known: ${Object.keys(defaults).map((k) => `--${k}`).join(', ')})`);
    const v = Number(argv[++i]);
    if (!Number.isFinite(v)) throw new Error(`${a} needs a number`);
    out[name] = v;
  }
  return out as T;
}

export function progress(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** Runs a benchmark when its file is executed directly: prints the JSON result, exit code 0 / 1. */
export function runAsScript<T>(fn: () => Promise<T>): void {
  fn().then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
