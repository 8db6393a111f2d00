// Property values as HubSpot stores them: strings, normalised per property type, validated against
// the property's options (deal stages against the deal's pipeline, owners against the owner list).
import type { PropertyError } from './errors';
import type { CrmRecord, PipelineDef, PropertyDef } from './model';
import type { Portal } from './portal';
import type { ObjectType } from './object-types';

/** Properties the sandbox maintains itself; a write naming them is refused (READ_ONLY_VALUE). */
export const SYSTEM_MAINTAINED = new Set(['hs_object_id', 'hs_lastmodifieddate', 'hs_merged_object_ids', 'hs_all_owner_ids', 'hs_is_closed', 'hs_is_closed_won', 'hs_deal_stage_probability', 'hs_closed_won_date']);

const NUMBER_RE = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

export type Normalised = { ok: true; value: string | null } | { ok: false; error: PropertyError };

function invalid(name: string, error: string, message: string): Normalised {
  return { ok: false, error: { name, error, message } };
}

/** Milliseconds since the epoch from a HubSpot date input (epoch ms, or an ISO date / datetime). */
export function parseTime(raw: string): number | undefined {
  if (/^-?\d+$/.test(raw)) return Number(raw);
  const t = Date.parse(raw);
  return Number.isNaN(t) ? undefined : t;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** Normalises one raw input value for a property (without option checks that need the record). */
export function normaliseValue(def: PropertyDef, raw: unknown): Normalised {
  if (raw === null || raw === undefined) return { ok: true, value: null };
  if (typeof raw === 'object') return invalid(def.name, 'INVALID_PROPERTY_VALUE', `${JSON.stringify(raw)} is not a valid value for ${def.name}`);
  const text = String(raw);
  if (text === '') return { ok: true, value: null };
  switch (def.type) {
    case 'number': {
      const t = text.trim();
      if (!NUMBER_RE.test(t)) return invalid(def.name, 'INVALID_DECIMAL', `${text} is not a valid decimal`);
      return { ok: true, value: t };
    }
    case 'datetime': {
      const ms = parseTime(text.trim());
      if (ms === undefined) return invalid(def.name, 'INVALID_DATE', `${text} is not a valid date`);
      return { ok: true, value: isoTime(ms) };
    }
    case 'date': {
      const ms = parseTime(text.trim());
      if (ms === undefined) return invalid(def.name, 'INVALID_DATE', `${text} is not a valid date`);
      const iso = isoTime(ms);
      if (!iso.endsWith('T00:00:00.000Z')) return invalid(def.name, 'INVALID_DATE', `${text} is at ${iso.slice(11, 23)} UTC, not midnight!`);
      return { ok: true, value: iso.slice(0, 10) };
    }
    case 'bool': {
      const t = text.trim().toLowerCase();
      if (t !== 'true' && t !== 'false') return invalid(def.name, 'INVALID_BOOLEAN', `${text} is not a valid boolean`);
      return { ok: true, value: t };
    }
    default:
      if (text.length > 65_536) return invalid(def.name, 'INVALID_PROPERTY_VALUE', `${def.name} is longer than 65536 characters`);
      return { ok: true, value: text };
  }
}

function optionError(def: PropertyDef, value: string, allowed: string[]): PropertyError {
  return { name: def.name, error: 'INVALID_OPTION', message: `${value} was not one of the allowed options: [${allowed.join(', ')}]` };
}

/** Checks enumeration values against the property's options (owners and pipelines are live lists). */
export function checkOption(portal: Portal, def: PropertyDef, value: string): PropertyError | null {
  if (def.type !== 'enumeration') return null;
  if (def.name === 'hubspot_owner_id') {
    const owner = portal.owners.get(value);
    return owner && !owner.archived ? null : optionError(def, value, [...portal.owners.keys()]);
  }
  if (def.name === 'pipeline') {
    const p = portal.pipelines.get(value);
    return p && !p.archived ? null : optionError(def, value, [...portal.pipelines.keys()]);
  }
  if (def.name === 'dealstage' || def.externalOptions) return null; // dealstage: checked with the pipeline
  const allowed = def.options.map((o) => o.value);
  const parts = def.fieldType === 'checkbox' ? value.split(';') : [value];
  for (const part of parts) if (!allowed.includes(part)) return optionError(def, part, allowed);
  return null;
}

export function stageOf(portal: Portal, pipelineId: string | undefined, stageId: string | undefined): { pipeline?: PipelineDef; stage?: PipelineDef['stages'][number] } {
  const pipeline = pipelineId ? portal.pipelines.get(pipelineId) : undefined;
  const stage = pipeline && stageId ? pipeline.stages.find((s) => s.id === stageId && !s.archived) : undefined;
  return { pipeline, stage };
}

/**
 * Validates a write's `properties` for one record: every name must exist and be writable, every
 * value must fit its type and options. Returns normalised values (null = clear) or the errors.
 */
export function validateProperties(
  portal: Portal,
  type: ObjectType,
  input: unknown,
  existing: CrmRecord | undefined,
): { values: Record<string, string | null>; errors: PropertyError[] } {
  const values: Record<string, string | null> = {};
  const errors: PropertyError[] = [];
  if (input === undefined || input === null) return { values, errors };
  if (typeof input !== 'object' || Array.isArray(input)) {
    errors.push({ name: 'properties', error: 'INVALID_PROPERTY_VALUE', message: 'properties must be an object' });
    return { values, errors };
  }
  const defs = portal.properties[type];
  for (const [name, raw] of Object.entries(input as Record<string, unknown>)) {
    const def = defs.get(name);
    if (!def || def.archived) {
      errors.push({ name, error: 'PROPERTY_DOESNT_EXIST', message: `Property "${name}" does not exist` });
      continue;
    }
    if (SYSTEM_MAINTAINED.has(name) || def.readOnlyValue) {
      errors.push({ name, error: 'READ_ONLY_VALUE', message: `"${name}" is a read only property; its value cannot be set.` });
      continue;
    }
    const n = normaliseValue(def, raw);
    if (!n.ok) {
      errors.push(n.error);
      continue;
    }
    if (n.value !== null) {
      const e = checkOption(portal, def, n.value);
      if (e) {
        errors.push(e);
        continue;
      }
    }
    values[name] = n.value;
  }
  if (type === 'deals' && ('dealstage' in values || 'pipeline' in values)) {
    const pipelineId = values.pipeline ?? existing?.props.pipeline ?? 'default';
    const stageId = 'dealstage' in values ? values.dealstage : existing?.props.dealstage;
    const { pipeline, stage } = stageOf(portal, pipelineId ?? undefined, stageId ?? undefined);
    if (pipeline && stageId && !stage) {
      errors.push({
        name: 'dealstage',
        error: 'INVALID_OPTION',
        message: `${stageId} was not one of the allowed options: [${pipeline.stages.map((s) => s.id).join(', ')}]`,
      });
    }
  }
  return { values, errors };
}

/** The unique-value conflicts a write would cause; `claimed` holds values taken earlier in the same batch. */
export function uniqueConflicts(
  portal: Portal,
  type: ObjectType,
  values: Record<string, string | null>,
  selfId: string | undefined,
  claimed?: Map<string, Map<string, string>>,
): PropertyError[] {
  const errors: PropertyError[] = [];
  for (const [name, index] of portal.unique[type]) {
    const v = values[name];
    if (v === undefined || v === null) continue;
    const holder = index.get(v) ?? claimed?.get(name)?.get(v);
    if (holder !== undefined && holder !== selfId) {
      errors.push({ name, error: 'INVALID_PROPERTY_VALUE', message: `${v} already has that value. A ${type === 'deals' ? 'deal' : 'company'} with ${name}=${v} already exists. Existing ID: ${holder}` });
    }
  }
  return errors;
}

export function claim(claimed: Map<string, Map<string, string>>, portal: Portal, type: ObjectType, values: Record<string, string | null>, id: string): void {
  for (const name of portal.unique[type].keys()) {
    const v = values[name];
    if (v === undefined || v === null) continue;
    let m = claimed.get(name);
    if (!m) claimed.set(name, (m = new Map()));
    m.set(v, id);
  }
}
