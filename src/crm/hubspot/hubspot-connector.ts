// The HubSpot connector: how dealreg builds a HubSpot adapter for a connection, refreshes and revokes
// its tokens, and what a static (private-app) connection request looks like. Registered in the typed
// record of connectors (src/main.ts).
import { z } from 'zod';
import type { ConnectionDraft } from '../../use-cases/crm/connections';
import type { CrmConnector, CrmServices } from '../crm-services';
import { readTokens } from '../../data/repositories/connections';
import { CrmError } from '../crm-adapter';
import { createHubspotAdapter } from './hubspot-adapter';
import { exchangeCode, introspect, refreshAccessToken, revokeRefreshToken, hubspotAuthorizeUrl } from './hubspot-oauth';
import { defaultHubspotMapping, HUBSPOT_REGISTRATION_ID_PROPERTY } from './hubspot-mapping-defaults';

/** What dealreg needs: deals and companies (read, write), their schemas (to create its properties), owners. */
export const HUBSPOT_SCOPES = [
  'oauth',
  'crm.objects.deals.read',
  'crm.objects.deals.write',
  'crm.objects.companies.read',
  'crm.objects.companies.write',
  'crm.schemas.deals.read',
  'crm.schemas.deals.write',
  'crm.objects.owners.read',
] as const;

/** POST /v1/connections/hubspot: a private-app token (or OAuth tokens obtained elsewhere). */
export const hubspotStaticConnectSchema = z
  .object({
    portalId: z.union([z.string().regex(/^\d{1,20}$/, 'the numeric HubSpot portal (hub) id'), z.number().int().positive()]).transform(String),
    accessToken: z.string().trim().min(10, 'the private-app (or OAuth) access token').max(4096),
    refreshToken: z.string().trim().min(10).max(4096).optional(),
    /** The app id that signs this connection's writes in webhooks (private apps have one); learned from the token when it can be. */
    appId: z.union([z.string().regex(/^\d{1,20}$/), z.number().int().positive()]).transform(String).optional(),
  })
  .strict();

export function hubspotDraftFromStatic(input: z.output<typeof hubspotStaticConnectSchema>, now: Date): ConnectionDraft {
  return {
    crm: 'hubspot',
    externalAccountId: input.portalId,
    authType: input.refreshToken ? 'oauth' : 'private_app',
    // OAuth access tokens live 30 minutes: without their expiry, treat one as due for refresh soon.
    tokens: { accessToken: input.accessToken, refreshToken: input.refreshToken ?? null, expiresAt: input.refreshToken ? new Date(now.getTime() + 25 * 60_000) : null },
    settings: { ...(input.appId ? { appId: input.appId } : {}) },
  };
}

export function hubspotConnector(): CrmConnector {
  return {
    crm: 'hubspot',
    registrationIdField: HUBSPOT_REGISTRATION_ID_PROPERTY,
    partnerRefKey: 'hubspotCompanyId',
    draftFromRequest: async (body, services) => hubspotDraftFromStatic(hubspotStaticConnectSchema.parse(body ?? {}), services.ctx.clock()),
    oauth: {
      begin: (services) => ({ keep: {}, authorizeUrl: (state) => hubspotInstallUrl(services, state) }),
      complete: (services, code) => hubspotDraftFromCode(services, code),
    },
    defaultMapping: defaultHubspotMapping,
    limits: (settings) => ({ apiPerSecond: settings.hubspot.requestsPerSecond, searchPerSecond: settings.hubspot.searchesPerSecond }),
    createAdapter: ({ connection, tokens, gate, services }) =>
      createHubspotAdapter({
        portalId: connection.externalAccountId,
        baseUrl: services.settings.hubspot.apiBaseUrl,
        tokens,
        gate,
        appId: (connection.settings.appId as string | undefined) ?? services.settings.hubspot.appId ?? null,
        log: services.ctx.log.child({ component: 'hubspot', connectionId: connection.id, portalId: connection.externalAccountId }),
        refreshToken: async () => (services.key && connection.hasRefreshToken ? ((await readTokens(services.ctx.prisma, services.key, connection.id))?.refreshToken ?? null) : null),
      }),
    refresher: (connection, services) => {
      const { clientId, clientSecret, apiBaseUrl } = services.settings.hubspot;
      if (!connection.hasRefreshToken) return undefined;
      return async (refreshToken) => {
        if (!refreshToken) throw new CrmError('hubspot', 'AUTH', 'the connection has no refresh token');
        if (!clientId || !clientSecret) throw new CrmError('hubspot', 'AUTH', 'HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET are needed to refresh OAuth tokens');
        const t = await refreshAccessToken({ baseUrl: apiBaseUrl, clientId, clientSecret, refreshToken });
        return { accessToken: t.accessToken, refreshToken: t.refreshToken, expiresAt: new Date(services.ctx.clock().getTime() + t.expiresIn * 1000) };
      };
    },
    revoke: async (_connection, tokens, services) => {
      if (tokens.refreshToken) await revokeRefreshToken({ baseUrl: services.settings.hubspot.apiBaseUrl, refreshToken: tokens.refreshToken });
    },
  };
}

export function hubspotRedirectUri(s: CrmServices): string {
  return `${s.settings.publicBaseUrl.replace(/\/$/, '')}/oauth/hubspot/callback`;
}

export function hubspotInstallUrl(s: CrmServices, state: string): string {
  const { clientId, appBaseUrl } = s.settings.hubspot;
  if (!clientId || !s.settings.hubspot.clientSecret) {
    throw new CrmError('hubspot', 'INVALID', 'set HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET (your HubSpot app) to install through OAuth');
  }
  return hubspotAuthorizeUrl({ authorizeBaseUrl: appBaseUrl, clientId, redirectUri: hubspotRedirectUri(s), scopes: HUBSPOT_SCOPES, state });
}

/** The OAuth callback's code → a connection draft (the portal id comes from the token itself). */
export async function hubspotDraftFromCode(s: CrmServices, code: string): Promise<ConnectionDraft> {
  const { clientId, clientSecret, apiBaseUrl } = s.settings.hubspot;
  if (!clientId || !clientSecret) throw new CrmError('hubspot', 'INVALID', 'HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET are not set');
  const tokens = await exchangeCode({ baseUrl: apiBaseUrl, clientId, clientSecret, redirectUri: hubspotRedirectUri(s), code });
  const info = await introspect({ baseUrl: apiBaseUrl, accessToken: tokens.accessToken });
  return {
    crm: 'hubspot',
    externalAccountId: info.hubId,
    authType: 'oauth',
    tokens: { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresAt: new Date(s.ctx.clock().getTime() + tokens.expiresIn * 1000) },
    settings: { ...(info.appId ? { appId: info.appId } : {}), scopes: info.scopes },
  };
}
