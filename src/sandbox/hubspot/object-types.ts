// The two CRM object types the sandbox serves and every name HubSpot accepts for them.
import { badRequest } from './errors';

export type ObjectType = 'deals' | 'companies';
export const OBJECT_TYPES: readonly ObjectType[] = ['deals', 'companies'];

const ALIASES: Record<string, ObjectType> = {
  deals: 'deals',
  deal: 'deals',
  '0-3': 'deals',
  companies: 'companies',
  company: 'companies',
  '0-2': 'companies',
};

export const OBJECT_TYPE_ID: Record<ObjectType, string> = { deals: '0-3', companies: '0-2' };
export const SINGULAR: Record<ObjectType, 'deal' | 'company'> = { deals: 'deal', companies: 'company' };
export const OTHER: Record<ObjectType, ObjectType> = { deals: 'companies', companies: 'deals' };

/** Properties returned when a read names none (HubSpot's defaults per object type). */
export const DEFAULT_PROPERTIES: Record<ObjectType, readonly string[]> = {
  deals: ['amount', 'closedate', 'createdate', 'dealname', 'dealstage', 'hs_lastmodifieddate', 'hs_object_id', 'pipeline'],
  companies: ['createdate', 'domain', 'hs_lastmodifieddate', 'hs_object_id', 'name'],
};

/** Always returned, whatever `properties` asks for. */
export const ALWAYS_RETURNED: readonly string[] = ['createdate', 'hs_lastmodifieddate', 'hs_object_id'];

/** Free-text `query` of a search looks in these. */
export const QUERY_PROPERTIES: Record<ObjectType, readonly string[]> = {
  deals: ['dealname'],
  companies: ['name', 'domain', 'website', 'phone'],
};

export function tryObjectType(raw: string): ObjectType | undefined {
  return ALIASES[raw.toLowerCase()];
}

export function resolveObjectType(raw: string): ObjectType {
  const t = tryObjectType(raw);
  if (!t) badRequest(`Unable to infer object type from: ${raw}`);
  return t;
}
