// Small pure helpers every connector's error mapping uses on an HTTP exchange: the answer's headers and
// the code of a transport failure. What each code means stays in the connector's own *-errors.ts.

export type HeaderMap = Readonly<Record<string, string | undefined>>;

/** Case-insensitive header lookup. */
export function header(headers: HeaderMap, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === wanted && v !== undefined) return v;
  return undefined;
}

/** The `code` of a failed request (`ECONNRESET`, `UND_ERR_SOCKET`, …), looked for along the `cause` chain. */
export function errorCodeOf(e: unknown): string | undefined {
  const o = e as { code?: unknown; cause?: unknown } | null;
  if (!o || typeof o !== 'object') return undefined;
  if (typeof o.code === 'string') return o.code;
  return o.cause !== undefined && o.cause !== e ? errorCodeOf(o.cause) : undefined;
}
