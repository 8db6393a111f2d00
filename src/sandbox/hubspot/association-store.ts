// Deal↔company associations, stored once in the deal→company direction (type 341 "unlabeled",
// type 5 "Primary") and read from either side (company→deal: 342 and 6). Every change emits
// `deal.associationChange` and `company.associationChange`, like HubSpot.
import type { Portal } from './portal';
import { COMPANY_TO_DEAL, DEAL_TO_COMPANY } from './portal';
import type { ObjectType } from './object-types';
import type { WriteCtx } from './state';

export interface AssociationTypeRef {
  category: 'HUBSPOT_DEFINED';
  typeId: number;
  label: string | null;
}

/** The HUBSPOT_DEFINED types valid from `from` to `to`, by id. */
export function validTypes(from: ObjectType): { unlabeled: number; primary: number } {
  return from === 'deals' ? DEAL_TO_COMPANY : COMPANY_TO_DEAL;
}

/** Maps a type id seen from `from` to the stored deal→company id (undefined if not a deal↔company type). */
export function toStoredType(from: ObjectType, typeId: number): number | undefined {
  if (from === 'deals') return typeId === DEAL_TO_COMPANY.unlabeled || typeId === DEAL_TO_COMPANY.primary ? typeId : undefined;
  if (typeId === COMPANY_TO_DEAL.unlabeled) return DEAL_TO_COMPANY.unlabeled;
  if (typeId === COMPANY_TO_DEAL.primary) return DEAL_TO_COMPANY.primary;
  return undefined;
}

export function fromStoredType(from: ObjectType, stored: number): number {
  if (from === 'deals') return stored;
  return stored === DEAL_TO_COMPANY.primary ? COMPANY_TO_DEAL.primary : COMPANY_TO_DEAL.unlabeled;
}

export function typeRef(typeId: number): AssociationTypeRef {
  const primary = typeId === DEAL_TO_COMPANY.primary || typeId === COMPANY_TO_DEAL.primary;
  return { category: 'HUBSPOT_DEFINED', typeId, label: primary ? 'Primary' : null };
}

/** v3 names for the types in object reads (`associations=companies`). */
export function v3TypeName(from: ObjectType, typeId: number): string {
  if (from === 'deals') return typeId === DEAL_TO_COMPANY.primary ? 'deal_to_company' : 'deal_to_company_unlabeled';
  return typeId === COMPANY_TO_DEAL.primary ? 'company_to_deal' : 'company_to_deal_unlabeled';
}

function pair(from: ObjectType, fromId: string, toId: string): [dealId: string, companyId: string] {
  return from === 'deals' ? [fromId, toId] : [toId, fromId];
}

/** Associated live objects of `id` (of type `from`), with their type ids seen from `from`. Sorted by id. */
export function associationsOf(portal: Portal, from: ObjectType, id: string): Array<{ id: string; typeIds: number[] }> {
  const out: Array<{ id: string; typeIds: number[] }> = [];
  if (from === 'deals') {
    const m = portal.dealCompanies.get(id);
    if (!m) return out;
    for (const [companyId, types] of m) {
      if (!portal.live('companies', companyId)) continue;
      out.push({ id: companyId, typeIds: sortTypes([...types]) });
    }
  } else {
    const deals = portal.companyDeals.get(id);
    if (!deals) return out;
    for (const dealId of deals) {
      const types = portal.dealCompanies.get(dealId)?.get(id);
      if (!types || !portal.live('deals', dealId)) continue;
      out.push({ id: dealId, typeIds: sortTypes([...types].map((t) => fromStoredType('companies', t))) });
    }
  }
  out.sort((a, b) => compareIds(a.id, b.id));
  return out;
}

function sortTypes(t: number[]): number[] {
  return t.sort((a, b) => a - b);
}

export function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function emitChange(ctx: WriteCtx, dealId: string, companyId: string, stored: number, removed: boolean): void {
  const isPrimaryAssociation = stored === DEAL_TO_COMPANY.primary;
  ctx.emit({
    subscriptionType: 'deal.associationChange',
    associationType: 'DEAL_TO_COMPANY',
    fromObjectId: Number(dealId),
    toObjectId: Number(companyId),
    associationRemoved: removed,
    isPrimaryAssociation,
  });
  ctx.emit({
    subscriptionType: 'company.associationChange',
    associationType: 'COMPANY_TO_DEAL',
    fromObjectId: Number(companyId),
    toObjectId: Number(dealId),
    associationRemoved: removed,
    isPrimaryAssociation,
  });
}

/**
 * Adds stored (deal→company) types between a deal and a company. The unlabeled type always comes
 * along; a new primary company replaces the deal's previous primary. Returns the stored types now held.
 */
export function associate(ctx: WriteCtx, from: ObjectType, fromId: string, toId: string, storedTypes: number[]): Set<number> {
  const [dealId, companyId] = pair(from, fromId, toId);
  const portal = ctx.portal;
  let companies = portal.dealCompanies.get(dealId);
  if (!companies) portal.dealCompanies.set(dealId, (companies = new Map()));
  let types = companies.get(companyId);
  if (!types) companies.set(companyId, (types = new Set()));
  let deals = portal.companyDeals.get(companyId);
  if (!deals) portal.companyDeals.set(companyId, (deals = new Set()));
  deals.add(dealId);

  const wanted = new Set<number>([DEAL_TO_COMPANY.unlabeled, ...storedTypes]);
  if (wanted.has(DEAL_TO_COMPANY.primary)) {
    for (const [otherCompany, otherTypes] of companies) {
      if (otherCompany !== companyId && otherTypes.delete(DEAL_TO_COMPANY.primary)) {
        emitChange(ctx, dealId, otherCompany, DEAL_TO_COMPANY.primary, true);
      }
    }
  }
  for (const t of [...wanted].sort((a, b) => b - a)) {
    if (types.has(t)) continue;
    types.add(t);
    emitChange(ctx, dealId, companyId, t, false);
  }
  return types;
}

/** Removes the given stored types (all when omitted; removing the unlabeled type removes all). */
export function dissociate(ctx: WriteCtx, from: ObjectType, fromId: string, toId: string, storedTypes?: number[]): number {
  const [dealId, companyId] = pair(from, fromId, toId);
  const portal = ctx.portal;
  const companies = portal.dealCompanies.get(dealId);
  const types = companies?.get(companyId);
  if (!companies || !types) return 0;
  const removeAll = !storedTypes || storedTypes.includes(DEAL_TO_COMPANY.unlabeled);
  const toRemove = removeAll ? [...types] : storedTypes.filter((t) => types.has(t));
  for (const t of toRemove.sort((a, b) => a - b)) {
    types.delete(t);
    emitChange(ctx, dealId, companyId, t, true);
  }
  if (types.size === 0) {
    companies.delete(companyId);
    if (companies.size === 0) portal.dealCompanies.delete(dealId);
    const deals = portal.companyDeals.get(companyId);
    deals?.delete(dealId);
    if (deals && deals.size === 0) portal.companyDeals.delete(companyId);
  }
  return toRemove.length;
}

/** Moves every association of `fromId` onto `toId` (same object type), for merges. */
export function moveAssociations(ctx: WriteCtx, type: ObjectType, fromId: string, toId: string): void {
  for (const a of associationsOf(ctx.portal, type, fromId)) {
    const stored = a.typeIds.map((t) => toStoredType(type, t)!).filter((t) => t !== undefined);
    dissociate(ctx, type, fromId, a.id);
    // A deal keeps its own primary company; a merged company stays primary wherever it was.
    const targetHasPrimary = type === 'deals' && [...(ctx.portal.dealCompanies.get(toId)?.values() ?? [])].some((t) => t.has(DEAL_TO_COMPANY.primary));
    associate(ctx, type, toId, a.id, targetHasPrimary ? stored.filter((t) => t !== DEAL_TO_COMPANY.primary) : stored);
  }
}
