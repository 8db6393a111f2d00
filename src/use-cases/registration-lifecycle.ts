// Everything that moves a registration after submission: approve, reject, withdraw, extension
// requests and their decisions, expiry, reminders, and won/lost from the CRM. Each change goes through
// applyStateChange: registration + ledger event + outbox row in one transaction, guarded by version.
import { z } from 'zod';
import { applyStateChange, findRegistration, StaleVersionError, type RegistrationRow } from '../data/repositories/registrations';
import { appendLedgerEvent, type Actor } from '../data/ledger';
import { assertTransition } from '../domain/registration-state';
import { checkExtensionRequest, computeProtection, dueReminders, nextReminderAt } from '../domain/protection-clock';
import type { ClockEvent, Protection, RegistrationStatus } from '../domain/types';
import type { Policy } from '../domain/policy';
import { DomainError } from '../domain/errors';
import { AppError, conflict, forbidden, notFound } from '../lib/errors';
import { currentPolicy } from './policies';
import { planAttributionFreeze } from './attribution';
import { actorOf, type Principal, type UseCaseContext } from './context';
import type { Db } from '../data/prisma';

const CONCURRENCY_RETRIES = 3;

export const rejectSchema = z.object({ reason: z.string().trim().min(1, 'say why, so the partner understands').max(2000) }).strict();
export const approveSchema = z.object({ note: z.string().trim().max(2000).optional() }).strict();
export const extensionRequestSchema = z
  .object({ days: z.number().int().min(1).max(365).optional(), reason: z.string().trim().max(2000).optional() })
  .strict();
export const extensionDecisionSchema = z.object({ note: z.string().trim().max(2000).optional() }).strict();

/** Events of a registration that the protection clock reads. */
export async function clockEvents(db: Db, workspaceId: string, registrationId: string): Promise<ClockEvent[]> {
  const rows = await db.ledgerEvent.findMany({
    where: { workspaceId, registrationId },
    orderBy: { seq: 'asc' },
    select: { type: true, data: true, createdAt: true },
  });
  const out: ClockEvent[] = [];
  for (const r of rows) {
    const data = (r.data ?? {}) as Record<string, unknown>;
    const at = r.createdAt.toISOString();
    const protection = data.protection as { days?: number } | null | undefined;
    switch (r.type) {
      case 'registration.submitted':
        if (data.status === 'approved' && protection?.days) out.push({ type: 'approved', at, days: protection.days });
        break;
      case 'registration.approved':
        if (protection?.days) out.push({ type: 'approved', at, days: protection.days });
        break;
      case 'registration.extended':
        out.push({ type: 'extended', at, days: Number(data.days) });
        break;
      case 'registration.expired':
      case 'registration.won':
      case 'registration.lost':
      case 'registration.withdrawn':
        out.push({ type: 'ended', at, status: r.type.slice('registration.'.length) as 'won' | 'lost' | 'expired' | 'withdrawn' });
        break;
      default:
        break;
    }
  }
  return out;
}

function transitionOrThrow(from: RegistrationStatus, to: RegistrationStatus): void {
  try {
    assertTransition(from, to);
  } catch (err) {
    if (err instanceof DomainError) throw new AppError(409, err.code, err.message, { from, to, ...(err.details as object | undefined) });
    throw err;
  }
}

/**
 * Re-reads the registration, lets `plan` decide the change (pure), applies it; on a concurrent change
 * re-reads and re-plans (the plan may then refuse, e.g. an illegal transition).
 */
async function withFreshRegistration(
  ctx: UseCaseContext,
  workspaceId: string,
  id: string,
  visibleTo: string | undefined,
  plan: (reg: RegistrationRow, policy: Policy) => Promise<Parameters<typeof applyStateChange>[1] | null>,
): Promise<RegistrationRow> {
  for (let attempt = 0; ; attempt++) {
    const reg = await findRegistration(ctx.prisma, workspaceId, id, visibleTo);
    if (!reg) throw notFound('Registration');
    const { policy } = await currentPolicy(ctx.prisma, workspaceId);
    const change = await plan(reg, policy);
    if (!change) return reg;
    try {
      await applyStateChange(ctx.prisma, change);
    } catch (err) {
      if (err instanceof StaleVersionError && attempt < CONCURRENCY_RETRIES) continue;
      if (err instanceof StaleVersionError) throw conflict('CONCURRENT_MODIFICATION', 'The registration changed while we were updating it; read it again and retry.');
      throw err;
    }
    ctx.outboxWritten?.();
    const after = await findRegistration(ctx.prisma, workspaceId, id);
    return after!;
  }
}

function requireDecider(by: Principal): void {
  const role = by.kind === 'staff' || by.kind === 'crm_user' ? by.role : null;
  if (by.kind === 'system') return;
  if (role !== 'partner_manager' && role !== 'admin') {
    throw forbidden('Only a partner manager (or an admin) can approve or reject registrations.', { requiredRole: 'partner_manager' });
  }
}

export async function approveRegistration(ctx: UseCaseContext, by: Principal, id: string, input: z.output<typeof approveSchema> = {}): Promise<RegistrationRow> {
  requireDecider(by);
  return withFreshRegistration(ctx, by.workspaceId, id, undefined, async (reg, policy) => {
    transitionOrThrow(reg.status, 'approved');
    const now = ctx.clock();
    const days = policy.protection.defaultDays;
    const protection = computeProtection([{ type: 'approved', at: now.toISOString(), days }], policy)!;
    return {
      workspaceId: reg.workspaceId,
      registrationId: reg.id,
      expectedVersion: reg.version,
      data: {
        status: 'approved',
        decidedAt: now,
        protectionStartsAt: new Date(protection.startsAt),
        protectionEndsAt: new Date(protection.endsAt),
        remindersSent: [],
        nextReminderAt: nextReminderAt(protection, policy, []),
      },
      event: { type: 'registration.approved', actor: actorOf(by), data: { from: reg.status, note: input.note ?? null, protection: { startsAt: protection.startsAt, endsAt: protection.endsAt, days } } },
      at: now,
    };
  });
}

export async function rejectRegistration(ctx: UseCaseContext, by: Principal, id: string, input: z.output<typeof rejectSchema>): Promise<RegistrationRow> {
  requireDecider(by);
  return withFreshRegistration(ctx, by.workspaceId, id, undefined, async (reg) => {
    transitionOrThrow(reg.status, 'rejected');
    const now = ctx.clock();
    return {
      workspaceId: reg.workspaceId,
      registrationId: reg.id,
      expectedVersion: reg.version,
      data: { status: 'rejected', decidedAt: now, endedAt: now },
      releaseHold: true,
      event: { type: 'registration.rejected', actor: actorOf(by), data: { from: reg.status, reason: input.reason } },
      at: now,
    };
  });
}

export async function withdrawRegistration(ctx: UseCaseContext, by: Principal, id: string): Promise<RegistrationRow> {
  const visibleTo = by.kind === 'partner' ? by.partnerId : undefined;
  return withFreshRegistration(ctx, by.workspaceId, id, visibleTo, async (reg) => {
    transitionOrThrow(reg.status, 'withdrawn');
    const now = ctx.clock();
    return {
      workspaceId: reg.workspaceId,
      registrationId: reg.id,
      expectedVersion: reg.version,
      data: { status: 'withdrawn', endedAt: now },
      releaseHold: true,
      event: { type: 'registration.withdrawn', actor: actorOf(by), data: { from: reg.status } },
      at: now,
    };
  });
}

/**
 * Won / lost, reported by a CRM (stage change) or staff. Ends protection. Won also freezes the
 * attribution with the won amount (`won`, default: the registration's amount) in the same transaction,
 * and records the frozen split, with each partner's amount, in the event (`attribution`).
 */
export async function closeRegistration(
  ctx: UseCaseContext,
  by: Principal,
  id: string,
  outcome: 'won' | 'lost',
  facts: Record<string, unknown> = {},
  source?: string,
  won?: { value: number | null; currency: string | null },
): Promise<RegistrationRow> {
  return withFreshRegistration(ctx, by.workspaceId, id, undefined, async (reg, policy) => {
    if (reg.status === outcome) return null; // already there: idempotent
    transitionOrThrow(reg.status, outcome);
    const now = ctx.clock();
    const frozen =
      outcome === 'won'
        ? await planAttributionFreeze(ctx, reg, policy.attribution, won ?? { value: reg.amountValue === null ? null : Number(reg.amountValue), currency: reg.amountCurrency }, by, now)
        : null;
    return {
      workspaceId: reg.workspaceId,
      registrationId: reg.id,
      expectedVersion: reg.version,
      data: { status: outcome, endedAt: now },
      releaseHold: true,
      ...(frozen ? { extra: frozen.freeze } : {}),
      event: { type: `registration.${outcome}`, actor: actorOf(by, source), data: { from: reg.status, ...facts, ...(frozen ? { attribution: frozen.attribution } : {}) } },
      at: now,
    };
  });
}

export interface CrmFieldChanges {
  amountValue?: number | null;
  amountCurrency?: string | null;
  expectedCloseDate?: string | null; // YYYY-MM-DD
}

/**
 * Fields a CRM owns (per the sync mapping) changed there: amount, currency, expected close date. One
 * version-guarded transaction with its ledger event; values equal to the stored ones write nothing.
 */
export async function applyCrmFieldChanges(
  ctx: UseCaseContext,
  by: Principal,
  id: string,
  changes: CrmFieldChanges,
  facts: Record<string, unknown>,
  source: string,
): Promise<RegistrationRow> {
  return withFreshRegistration(ctx, by.workspaceId, id, undefined, async (reg) => {
    const data: Record<string, unknown> = {};
    const changed: Record<string, { from: unknown; to: unknown }> = {};
    const current = {
      amountValue: reg.amountValue === null ? null : Number(reg.amountValue),
      amountCurrency: reg.amountCurrency,
      expectedCloseDate: reg.expectedCloseDate ? reg.expectedCloseDate.toISOString().slice(0, 10) : null,
    };
    for (const k of Object.keys(changes) as (keyof CrmFieldChanges)[]) {
      const to = changes[k] ?? null;
      if (to === current[k]) continue;
      changed[k] = { from: current[k], to };
      data[k] = k === 'expectedCloseDate' && to !== null ? new Date(`${String(to)}T00:00:00Z`) : to;
    }
    if (Object.keys(changed).length === 0) return null;
    return {
      workspaceId: reg.workspaceId,
      registrationId: reg.id,
      expectedVersion: reg.version,
      data,
      event: { type: 'registration.crm_updated', actor: actorOf(by, source), data: { changes: changed, ...facts } },
      at: ctx.clock(),
    };
  });
}

export interface ExtensionRequestView {
  id: string;
  registrationId: string;
  requestedDays: number;
  reason: string | null;
  status: string;
  createdAt: string;
  decidedAt: string | null;
}

function extensionView(r: { id: string; registrationId: string; requestedDays: number; reason: string | null; status: string; createdAt: Date; decidedAt: Date | null }): ExtensionRequestView {
  return { id: r.id, registrationId: r.registrationId, requestedDays: r.requestedDays, reason: r.reason, status: r.status, createdAt: r.createdAt.toISOString(), decidedAt: r.decidedAt?.toISOString() ?? null };
}

async function protectionOf(ctx: UseCaseContext, reg: RegistrationRow, policy: Policy): Promise<Protection | null> {
  return computeProtection(await clockEvents(ctx.prisma, reg.workspaceId, reg.id), policy);
}

function extensionRefused(result: { ok: false; code: string; message: string }): AppError {
  return conflict(result.code, result.message);
}

/** A partner asks for more protection. Auto-approved when the policy says so; otherwise pending for a partner manager. */
export async function requestExtension(
  ctx: UseCaseContext,
  by: Principal,
  id: string,
  input: z.output<typeof extensionRequestSchema>,
): Promise<{ extensionRequest: ExtensionRequestView; registration: RegistrationRow }> {
  const visibleTo = by.kind === 'partner' ? by.partnerId : undefined;
  const reg = await findRegistration(ctx.prisma, by.workspaceId, id, visibleTo);
  if (!reg) throw notFound('Registration');
  const { policy } = await currentPolicy(ctx.prisma, by.workspaceId);
  const protection = await protectionOf(ctx, reg, policy);
  const check = checkExtensionRequest(protection, reg.status, policy, ctx.clock(), input.days);
  if (!check.ok) throw extensionRefused(check);
  const pending = await ctx.prisma.extensionRequest.findFirst({ where: { registrationId: reg.id, status: 'pending' }, select: { id: true } });
  if (pending) throw conflict('EXTENSION_ALREADY_REQUESTED', 'An extension request for this registration is already waiting for a decision.', { extensionRequestId: pending.id });
  const now = ctx.clock();
  const actor = actorOf(by);
  const created = await ctx.prisma.$transaction(async (tx) => {
    // Concurrent requests for one registration: lock its row, then look again (the check above is only a fast path).
    await tx.$queryRaw`SELECT id FROM registrations WHERE id = ${reg.id}::uuid FOR UPDATE`;
    const raced = await tx.extensionRequest.findFirst({ where: { registrationId: reg.id, status: 'pending' }, select: { id: true } });
    if (raced) throw conflict('EXTENSION_ALREADY_REQUESTED', 'An extension request for this registration is already waiting for a decision.', { extensionRequestId: raced.id });
    const r = await tx.extensionRequest.create({
      data: { workspaceId: by.workspaceId, registrationId: reg.id, requestedDays: check.days, reason: input.reason ?? null, status: 'pending' },
    });
    await appendLedgerEvent(tx, { workspaceId: by.workspaceId, registrationId: reg.id, type: 'registration.extension_requested', actor, data: { extensionRequestId: r.id, days: check.days, reason: input.reason ?? null }, at: now });
    return r;
  });
  if (policy.protection.autoApproveExtensions) {
    return decideExtension(ctx, { kind: 'system', workspaceId: by.workspaceId, source: 'policy' }, reg.id, created.id, 'approve');
  }
  return { extensionRequest: extensionView(created), registration: reg };
}

export async function listExtensionRequests(ctx: UseCaseContext, workspaceId: string, registrationId: string, visibleTo?: string): Promise<ExtensionRequestView[]> {
  const reg = await findRegistration(ctx.prisma, workspaceId, registrationId, visibleTo);
  if (!reg) throw notFound('Registration');
  const rows = await ctx.prisma.extensionRequest.findMany({ where: { registrationId, workspaceId }, orderBy: { createdAt: 'asc' } });
  return rows.map(extensionView);
}

export async function decideExtension(
  ctx: UseCaseContext,
  by: Principal,
  registrationId: string,
  requestId: string,
  decision: 'approve' | 'reject',
  note?: string,
): Promise<{ extensionRequest: ExtensionRequestView; registration: RegistrationRow }> {
  requireDecider(by);
  const actor: Actor = actorOf(by);
  const request = await ctx.prisma.extensionRequest.findFirst({ where: { id: requestId, registrationId, workspaceId: by.workspaceId } });
  if (!request) throw notFound('Extension request');
  if (request.status !== 'pending') throw conflict('INVALID_TRANSITION', `This extension request was already ${request.status}.`, { from: request.status });
  const registration = await withFreshRegistration(ctx, by.workspaceId, registrationId, undefined, async (reg, policy) => {
    const now = ctx.clock();
    const markDecided = async (tx: Db, status: 'approved' | 'rejected') => {
      const r = await tx.extensionRequest.updateMany({ where: { id: requestId, status: 'pending' }, data: { status, decidedAt: now, decidedBy: `${actor.type}:${actor.id ?? actor.source}` } });
      if (r.count !== 1) throw conflict('INVALID_TRANSITION', 'This extension request was decided by someone else meanwhile.');
    };
    if (decision === 'reject') {
      return {
        workspaceId: reg.workspaceId,
        registrationId: reg.id,
        expectedVersion: reg.version,
        data: {},
        extra: (tx) => markDecided(tx, 'rejected'),
        event: { type: 'registration.extension_rejected', actor, data: { extensionRequestId: requestId, note: note ?? null } },
        at: now,
      };
    }
    const events = await clockEvents(ctx.prisma, reg.workspaceId, reg.id);
    const before = computeProtection(events, policy);
    // Approval is checked against the window and caps again: time has passed since the request.
    const check = checkExtensionRequest(before, reg.status, policy, now, request.requestedDays);
    if (!check.ok) throw extensionRefused(check);
    const after = computeProtection([...events, { type: 'extended', at: now.toISOString(), days: check.days }], policy)!;
    return {
      workspaceId: reg.workspaceId,
      registrationId: reg.id,
      expectedVersion: reg.version,
      // A new end date: reminders start over for it.
      data: { protectionEndsAt: new Date(after.endsAt), extensionsUsed: after.extensionsUsed, remindersSent: [], nextReminderAt: nextReminderAt(after, policy, []) },
      extra: (tx) => markDecided(tx, 'approved'),
      event: { type: 'registration.extended', actor, data: { extensionRequestId: requestId, days: check.days, endsAt: after.endsAt, previousEndsAt: before?.endsAt ?? null, note: note ?? null } },
      at: now,
    };
  });
  const updated = await ctx.prisma.extensionRequest.findUniqueOrThrow({ where: { id: requestId } });
  return { extensionRequest: extensionView(updated), registration };
}

export interface SweepResult {
  expired: number;
  reminders: number;
}

/**
 * The protection sweep: expires lapsed approved registrations and announces reminders before expiry.
 * Each registration is handled in its own transaction guarded by its version, so a crash mid-batch
 * leaves every registration either done or untouched, and a re-run does only what is left.
 */
export async function runProtectionSweep(ctx: UseCaseContext, opts: { batchSize?: number; onProgress?: (r: SweepResult) => void } = {}): Promise<SweepResult> {
  const batchSize = opts.batchSize ?? 200;
  const result: SweepResult = { expired: 0, reminders: 0 };
  const system = (workspaceId: string): Principal => ({ kind: 'system', workspaceId, source: 'job' });
  const policies = new Map<string, Policy>();
  const policyFor = async (ws: string) => {
    let p = policies.get(ws);
    if (!p) {
      p = (await currentPolicy(ctx.prisma, ws)).policy;
      policies.set(ws, p);
    }
    return p;
  };

  // 1. Expiry.
  for (;;) {
    const now = ctx.clock();
    const lapsed = await ctx.prisma.registration.findMany({
      where: { status: 'approved', protectionEndsAt: { lte: now } },
      orderBy: { protectionEndsAt: 'asc' },
      take: batchSize,
      select: { id: true, workspaceId: true, version: true, protectionEndsAt: true },
    });
    if (lapsed.length === 0) break;
    for (const reg of lapsed) {
      try {
        await applyStateChange(ctx.prisma, {
          workspaceId: reg.workspaceId,
          registrationId: reg.id,
          expectedVersion: reg.version,
          data: { status: 'expired', endedAt: now },
          releaseHold: true,
          event: { type: 'registration.expired', actor: actorOf(system(reg.workspaceId)), data: { from: 'approved', endsAt: reg.protectionEndsAt!.toISOString() } },
          at: now,
        });
        result.expired++;
      } catch (err) {
        if (!(err instanceof StaleVersionError)) throw err; // changed meanwhile: the next pass re-reads it
      }
    }
    ctx.outboxWritten?.();
    opts.onProgress?.(result);
    if (lapsed.length < batchSize) break;
  }

  // 2. Reminders: registrations whose next reminder is due (indexed on status, next_reminder_at).
  for (;;) {
    const now = ctx.clock();
    const due = await ctx.prisma.registration.findMany({
      where: { status: 'approved', nextReminderAt: { lte: now } },
      orderBy: { nextReminderAt: 'asc' },
      take: batchSize,
      select: { id: true, workspaceId: true, version: true, protectionStartsAt: true, protectionEndsAt: true, extensionsUsed: true, remindersSent: true },
    });
    if (due.length === 0) break;
    let progressed = 0;
    for (const reg of due) {
      const policy = await policyFor(reg.workspaceId);
      const protection: Protection = {
        startsAt: reg.protectionStartsAt!.toISOString(),
        endsAt: reg.protectionEndsAt!.toISOString(),
        extensionsUsed: reg.extensionsUsed,
        extendedDays: 0,
        endedAt: null,
      };
      const thresholds = dueReminders(protection, policy, now, reg.remindersSent);
      const sent = [...new Set([...reg.remindersSent, ...thresholds])].sort((a, b) => b - a);
      const next = nextReminderAt(protection, policy, sent);
      try {
        await applyStateChange(ctx.prisma, {
          workspaceId: reg.workspaceId,
          registrationId: reg.id,
          expectedVersion: reg.version,
          data: { remindersSent: sent, nextReminderAt: next },
          // Nothing due after all (e.g. the policy's thresholds changed): just reschedule, silently.
          ...(thresholds.length > 0
            ? { event: { type: 'registration.reminder', actor: actorOf(system(reg.workspaceId)), data: { daysBefore: thresholds[0]!, endsAt: protection.endsAt } } }
            : { event: { type: 'registration.reminder_rescheduled', actor: actorOf(system(reg.workspaceId)), data: { nextReminderAt: next?.toISOString() ?? null } } }),
          at: now,
        });
        if (thresholds.length > 0) result.reminders++;
        progressed++;
      } catch (err) {
        if (!(err instanceof StaleVersionError)) throw err;
      }
    }
    ctx.outboxWritten?.();
    opts.onProgress?.(result);
    if (due.length < batchSize || progressed === 0) break;
  }
  return result;
}
