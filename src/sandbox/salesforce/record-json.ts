// Records on the wire: REST rows with `attributes`, and field values in REST and in CDC formats.
import type { FieldDef, SObjectDef } from './schema';
import type { Row } from './org';
import { formatCdcDateTime, formatDateTime } from './values';

export function recordUrl(version: string, sobject: string, id: string): string {
  return `/services/data/${version}/sobjects/${sobject}/${id}`;
}

export function attributesOf(version: string, sobject: string, id: string): { type: string; url: string } {
  return { type: sobject, url: recordUrl(version, sobject, id) };
}

/** A stored value as the REST API shows it. */
export function apiValue(f: FieldDef, v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (f.type === 'datetime') return formatDateTime(v as number);
  return v;
}

/** A stored value as a change event payload carries it. */
export function cdcValue(f: FieldDef, v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (f.type === 'datetime') return formatCdcDateTime(v as number);
  return v;
}

/** A full record (or the listed fields) as `GET /sobjects/{type}/{id}` returns it. */
export function recordJson(version: string, def: SObjectDef, row: Row, fields?: FieldDef[]): Record<string, unknown> {
  const out: Record<string, unknown> = { attributes: attributesOf(version, def.name, row.Id) };
  for (const f of fields ?? def.fields) out[f.name] = apiValue(f, row[f.name]);
  return out;
}
