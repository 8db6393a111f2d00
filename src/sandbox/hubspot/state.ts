// The whole sandbox's state: portals plus the credentials that point into them, and the id counters.
// Ids are numeric strings like HubSpot's; counters live in the state so a restored snapshot keeps
// handing out fresh ids.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Actor, WebhookEvent } from './model';
import { Portal, type PortalSnapshot } from './portal';

export interface AccessTokenInfo {
  portalId: number;
  kind: 'oauth' | 'private';
  /** null: never expires (private app token until `expire-tokens`). */
  expiresAt: number | null;
  scopes: string[];
  userId: number;
}

export interface RefreshTokenInfo {
  portalId: number;
  clientId: string;
  scopes: string[];
  userId: number;
}

export interface AuthCodeInfo {
  portalId: number;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  expiresAt: number;
}

export interface Counters {
  objectId: number;
  portalId: number;
  appId: number;
  ownerId: number;
  userId: number;
  teamId: number;
  eventId: number;
  subscriptionId: number;
  pipelineId: number;
  deliveryId: number;
}

function initialCounters(): Counters {
  return {
    objectId: 30_000_000_001,
    portalId: 40_000_001,
    appId: 3_000_001,
    ownerId: 70_000_001,
    userId: 50_000_001,
    teamId: 9_000_001,
    eventId: 1_000_000_001,
    subscriptionId: 2_000_001,
    pipelineId: 100_000_001,
    deliveryId: 1,
  };
}

export const DEFAULT_SCOPES = ['oauth', 'crm.objects.deals.read', 'crm.objects.deals.write', 'crm.objects.companies.read', 'crm.objects.companies.write', 'crm.schemas.deals.read', 'crm.schemas.companies.read', 'crm.objects.owners.read'];

export class SandboxState {
  portals = new Map<number, Portal>();
  accessTokens = new Map<string, AccessTokenInfo>();
  refreshTokens = new Map<string, RefreshTokenInfo>();
  authCodes = new Map<string, AuthCodeInfo>();
  counters: Counters = initialCounters();

  next(counter: keyof Counters): number {
    const v = this.counters[counter];
    this.counters[counter] = v + 1;
    return v;
  }

  nextObjectId(): string {
    return String(this.next('objectId'));
  }

  portal(id: unknown): Portal | undefined {
    const n = typeof id === 'number' ? id : typeof id === 'string' && /^\d+$/.test(id) ? Number(id) : NaN;
    return this.portals.get(n);
  }

  toJSON(): StateSnapshot {
    return {
      version: 1,
      counters: { ...this.counters },
      portals: [...this.portals.values()].map((p) => p.toJSON()),
      accessTokens: [...this.accessTokens.entries()],
      refreshTokens: [...this.refreshTokens.entries()],
      authCodes: [...this.authCodes.entries()],
    };
  }

  static fromJSON(s: StateSnapshot, at: number): SandboxState {
    if (!s || s.version !== 1) throw new Error('unsupported HubSpot sandbox snapshot (expected version 1)');
    const st = new SandboxState();
    st.counters = { ...initialCounters(), ...s.counters };
    for (const p of s.portals) st.portals.set(p.portalId, Portal.fromJSON(p, at));
    st.accessTokens = new Map(s.accessTokens);
    st.refreshTokens = new Map(s.refreshTokens);
    st.authCodes = new Map(s.authCodes);
    return st;
  }
}

export interface StateSnapshot {
  version: 1;
  counters: Counters;
  portals: PortalSnapshot[];
  accessTokens: Array<[string, AccessTokenInfo]>;
  refreshTokens: Array<[string, RefreshTokenInfo]>;
  authCodes: Array<[string, AuthCodeInfo]>;
}

/** The fields of a webhook event a change knows; the dispatcher adds ids, times and the source. */
export type EventDraft = Omit<WebhookEvent, 'eventId' | 'subscriptionId' | 'portalId' | 'appId' | 'occurredAt' | 'changeSource' | 'sourceId'>;

/** Everything a write needs: where, when, who, and where its webhook events go. */
export interface WriteCtx {
  state: SandboxState;
  portal: Portal;
  now: number;
  actor: Actor;
  /** Queues a webhook event (no-op when the write must stay silent, e.g. a bulk seed). */
  emit: (draft: EventDraft) => void;
}

export function hubspotToken(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

export function opaqueToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

export function changeSourceOf(actor: Actor, appId: number): { changeSource: string; sourceId: string } {
  return actor.kind === 'user'
    ? { changeSource: 'CRM_UI', sourceId: `userId:${actor.userId}` }
    : { changeSource: 'INTEGRATION', sourceId: String(appId) };
}
