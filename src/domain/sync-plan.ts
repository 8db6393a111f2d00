// Sync planning, both ways, as pure functions (no I/O).
//
// The link between a registration and its CRM record remembers `known`: the values the CRM holds for
// every mapped field as far as we know (what we last wrote, or what we last read back), in canonical form.
// - Outbound: write the fields whose desired value differs from `known`, as field ownership allows.
// - Inbound: a CRM value equal to `known` is no change (our own write coming back: an echo); a different
//   one is a real change, applied to the registration or undone, as field ownership says.
import type { FieldMapping, InboundField, SyncMapping } from './sync-mapping';
import { ownerOf } from './sync-mapping';
import type { RegistrationStatus } from './types';

export type CanonicalValue = string | number | boolean | null;
export type KnownValues = Record<string, CanonicalValue>;

/** Keys in `known` that are not CRM fields. */
export const KNOWN_STAGE = '$stage';
export const KNOWN_PIPELINE = '$pipeline';
export const KNOWN_STATUS = '$status';
export const KNOWN_OWNER = '$owner';

/** Plain facts about a registration, as a mapping reads them. */
export interface RegistrationFacts {
  id: string;
  url: string | null;
  status: RegistrationStatus;
  source: string;
  company: { name: string; domain: string; country: string | null };
  contact: { name: string; email: string };
  amount: { value: number; currency: string | null } | null;
  expectedCloseDate: string | null; // YYYY-MM-DD
  notes: string | null;
  partner: { name: string; type: string; tier: string };
  protection: { startsAt: string; endsAt: string } | null; // ISO
  verdict: { outcome: string; codes: string[] };
}

export function verdictSummary(v: RegistrationFacts['verdict']): string {
  const outcome = v.outcome === 'approve' ? 'approved' : v.outcome === 'review' ? 'needs review' : 'rejected';
  return v.codes.length === 0 ? `${outcome}: no conflicts` : `${outcome}: ${v.codes.join(', ')}`;
}

export function factValue(facts: RegistrationFacts, field: string): CanonicalValue {
  switch (field) {
    case 'registration.id':
      return facts.id;
    case 'registration.url':
      return facts.url;
    case 'status':
      return facts.status;
    case 'source':
      return facts.source;
    case 'company.name':
      return facts.company.name;
    case 'company.domain':
      return facts.company.domain;
    case 'company.country':
      return facts.company.country;
    case 'contact.name':
      return facts.contact.name;
    case 'contact.email':
      return facts.contact.email;
    case 'amount.value':
      return facts.amount?.value ?? null;
    case 'amount.currency':
      return facts.amount?.currency ?? null;
    case 'expectedCloseDate':
      return facts.expectedCloseDate;
    case 'notes':
      return facts.notes;
    case 'partner.name':
      return facts.partner.name;
    case 'partner.type':
      return facts.partner.type;
    case 'partner.tier':
      return facts.partner.tier;
    case 'protection.startsAt':
      return facts.protection?.startsAt ?? null;
    case 'protection.endsAt':
      return facts.protection?.endsAt ?? null;
    case 'verdict.outcome':
      return facts.verdict.outcome;
    case 'verdict.summary':
      return verdictSummary(facts.verdict);
    default:
      return null;
  }
}

export function renderTemplate(template: string, facts: RegistrationFacts): string {
  // One pass (the placeholders of templatePlaceholders), so that a value that happens to contain
  // "{partner.name}" is written as is, not expanded.
  const out = template.replace(/\{([a-zA-Z.]+)\}/g, (_, name: string) => {
    const v = factValue(facts, name);
    return v === null ? '' : String(v);
  });
  // Drop brackets left empty first, then collapse the spaces that leaves behind.
  return out.replace(/\(\s*\)/g, '').replace(/\s+/g, ' ').trim();
}

/** A value in the canonical form of a field's transform (so that "48000" from a CRM equals 48000). */
export function canonicalise(f: Pick<FieldMapping, 'transform' | 'registrationField'>, value: unknown): CanonicalValue {
  if (value === undefined || value === null || value === '') return null;
  const transform = f.transform !== 'none' ? f.transform : f.registrationField === 'amount.value' ? 'number' : f.registrationField === 'expectedCloseDate' || f.registrationField?.startsWith('protection.') ? 'date' : 'none';
  switch (transform) {
    case 'number': {
      const text = typeof value === 'number' ? null : String(value).trim();
      if (text === '') return null; // Number('  ') is 0, but a blank amount is empty
      const n = text === null ? (value as number) : Number(text);
      return Number.isFinite(n) ? Math.round(n * 100) / 100 : null;
    }
    case 'date':
      return toIsoDate(value);
    case 'datetime': {
      const t = toTime(value);
      return t === null ? null : new Date(t).toISOString();
    }
    case 'upper':
      return String(value).toUpperCase();
    case 'lower':
      return String(value).toLowerCase();
    default:
      return typeof value === 'boolean' || typeof value === 'number' ? value : String(value);
  }
}

function toTime(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  const s = String(value).trim();
  if (/^\d{10,}$/.test(s)) return Number(s);
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s);
  return Number.isNaN(t) ? null : t;
}

function toIsoDate(value: unknown): string | null {
  const t = toTime(value);
  return t === null ? null : new Date(t).toISOString().slice(0, 10);
}

export function sameValue(a: CanonicalValue | undefined, b: CanonicalValue | undefined): boolean {
  const x = a ?? null;
  const y = b ?? null;
  if (typeof x === 'number' && typeof y === 'number') return Math.abs(x - y) < 0.005;
  return x === y;
}

/** The value dealreg wants in the CRM for one mapped field. */
export function desiredValue(f: FieldMapping, facts: RegistrationFacts): CanonicalValue {
  const raw = f.template !== undefined ? renderTemplate(f.template, facts) : factValue(facts, f.registrationField!);
  const mapped = raw !== null && f.valueMap && Object.hasOwn(f.valueMap, String(raw)) ? f.valueMap[String(raw)]! : raw;
  return canonicalise(f, mapped);
}

const writes = (f: FieldMapping) => f.direction !== 'from_crm';

export interface OutboundPlan {
  kind: 'create' | 'update' | 'none';
  fields: Record<string, CanonicalValue>;
  pipelineId: string | null;
  stageId: string | null;
  /** What `known` becomes once the write succeeds. */
  knownAfter: KnownValues;
}

/**
 * What to write for a registration. `link` is null (or has no external id) before the first write.
 * Fields owned by the CRM are written on create only; others whenever they differ from `known`. The
 * stage moves when the registration reaches a status the mapping names (once per status change).
 */
export function planOutbound(args: {
  facts: RegistrationFacts;
  mapping: SyncMapping;
  link: { externalId: string | null; known: KnownValues } | null;
  createStageId: string | null;
}): OutboundPlan {
  const { facts, mapping } = args;
  const known = args.link?.known ?? {};
  const creating = !args.link?.externalId;
  const fields: Record<string, CanonicalValue> = {};
  for (const f of mapping.fields.filter(writes)) {
    const value = desiredValue(f, facts);
    if (creating) {
      if (value !== null) fields[f.crmField] = value;
      continue;
    }
    if (ownerOf(f) === 'crm') continue;
    if (!sameValue(value, known[f.crmField])) fields[f.crmField] = value;
  }
  const statusStage = mapping.stages.byStatus[facts.status] ?? null;
  let stageId: string | null = null;
  let pipelineId: string | null = null;
  if (creating) {
    pipelineId = mapping.stages.pipelineId;
    stageId = statusStage ?? args.createStageId;
  } else if (statusStage && known[KNOWN_STATUS] !== facts.status && known[KNOWN_STAGE] !== statusStage) {
    pipelineId = mapping.stages.pipelineId;
    stageId = statusStage;
  }
  const knownAfter: KnownValues = { ...known, ...fields, [KNOWN_STATUS]: facts.status };
  if (stageId) knownAfter[KNOWN_STAGE] = stageId;
  if (pipelineId) knownAfter[KNOWN_PIPELINE] = pipelineId;
  const kind = creating ? 'create' : Object.keys(fields).length > 0 || stageId ? 'update' : 'none';
  return { kind, fields, pipelineId, stageId, knownAfter };
}

/**
 * What we take the CRM to hold for a field. A field we write but is missing from `known` was empty when
 * we last wrote (planOutbound leaves empty values out of a create), so the CRM holds nothing there. A
 * from_crm field we have not read yet is taken to hold the registration's own value.
 */
function knownValue(f: FieldMapping, known: KnownValues, facts: RegistrationFacts): CanonicalValue {
  if (f.crmField in known) return known[f.crmField] ?? null;
  if (writes(f) || !f.registrationField) return null;
  return canonicalise(f, factValue(facts, f.registrationField));
}

/** Whether ISO time `a` is after `b`, as instants (offsets and fractional seconds differ between CRMs). */
function isLater(a: string, b: string): boolean {
  const x = Date.parse(a);
  const y = Date.parse(b);
  return Number.isNaN(x) || Number.isNaN(y) ? a > b : x > y;
}

export interface InboundChange {
  field: InboundField;
  crmField: string;
  from: CanonicalValue;
  to: CanonicalValue;
}

export interface InboundPlan {
  /** Registration fields to change (CRM-owned or latest-wins fields that changed in the CRM). */
  changes: InboundChange[];
  /** The deal reached a won / lost stage and the registration can close. */
  close: 'won' | 'lost' | null;
  ownerChange: { from: string | null; to: string | null } | null;
  stageChange: { from: string | null; to: string | null } | null;
  /** A field dealreg owns was edited in the CRM: push again to restore it. */
  repush: boolean;
  knownAfter: KnownValues;
  /** Nothing differs from what we knew: our own write (or a no-op) coming back. */
  echo: boolean;
  notes: string[];
}

/**
 * What a CRM record's current state means for the registration. `stageOutcome` is what the record's
 * stage means under the mapping (won / lost / open / unknown). `localPendingSince` is set when the
 * registration has changes not yet pushed (ISO time of that change): for "latest" fields, the newer wins.
 */
export function planInbound(args: {
  facts: RegistrationFacts;
  mapping: SyncMapping;
  known: KnownValues;
  crm: { fields: Record<string, string | null>; stageId: string | null; pipelineId: string | null; ownerId: string | null; changedAt: string };
  stageOutcome: 'won' | 'lost' | 'open' | 'unknown';
  localPendingSince: string | null;
}): InboundPlan {
  const { facts, mapping, known, crm } = args;
  const knownAfter: KnownValues = { ...known };
  const changes: InboundChange[] = [];
  const notes: string[] = [];
  let repush = false;
  let differs = false;
  for (const f of mapping.fields) {
    if (!(f.crmField in crm.fields)) continue; // not read: nothing to say about it
    const value = canonicalise(f, crm.fields[f.crmField]);
    if (sameValue(value, knownValue(f, known, facts))) continue;
    differs = true;
    knownAfter[f.crmField] = value;
    const owner = ownerOf(f);
    const flowsBack = f.direction !== 'to_crm' && f.registrationField !== undefined;
    if (owner === 'dealreg') {
      if (writes(f)) repush = true;
      continue;
    }
    if (!flowsBack) continue; // CRM-owned or latest-wins but one-way: the CRM keeps its edit
    if (owner === 'latest' && args.localPendingSince && isLater(args.localPendingSince, crm.changedAt)) {
      repush = true; // our unpushed change is newer
      continue;
    }
    const field = f.registrationField as InboundField;
    const current = factValue(facts, field);
    if (!sameValue(value, canonicalise(f, current))) changes.push({ field, crmField: f.crmField, from: current, to: value });
  }
  let stageChange: InboundPlan['stageChange'] = null;
  if (crm.stageId !== (known[KNOWN_STAGE] ?? null)) {
    stageChange = { from: (known[KNOWN_STAGE] as string | null | undefined) ?? null, to: crm.stageId };
    knownAfter[KNOWN_STAGE] = crm.stageId;
    differs = true;
  }
  if (crm.pipelineId !== null && crm.pipelineId !== (known[KNOWN_PIPELINE] ?? null)) {
    knownAfter[KNOWN_PIPELINE] = crm.pipelineId;
  }
  let close: InboundPlan['close'] = null;
  if (args.stageOutcome === 'won' || args.stageOutcome === 'lost') {
    if (facts.status === 'approved') close = args.stageOutcome;
    else if (facts.status === 'pending_review') notes.push(`the deal is closed ${args.stageOutcome} but the registration is still pending review: decide it first`);
    else if (facts.status !== args.stageOutcome) notes.push(`the deal is closed ${args.stageOutcome}; the registration is already ${facts.status}`);
  }
  let ownerChange: InboundPlan['ownerChange'] = null;
  const knownOwner = (known[KNOWN_OWNER] as string | null | undefined) ?? null;
  if (crm.ownerId !== knownOwner) {
    ownerChange = { from: knownOwner, to: crm.ownerId };
    knownAfter[KNOWN_OWNER] = crm.ownerId;
    differs = true;
  }
  const echo = !differs && changes.length === 0 && close === null;
  return { changes, close, ownerChange, stageChange, repush, knownAfter, echo, notes };
}
