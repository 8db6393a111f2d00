// The Salesforce connector's public surface: the connector (registered in src/main.ts), the adapter and
// its daily API budget, OAuth helpers (web-server flow with PKCE, refresh, JWT bearer, revoke, identity),
// the fields dealreg needs in an org and the default sync mapping.
export {
  isTrustedLoginHost,
  salesforceConnectSchema,
  salesforceConnector,
  salesforceDraftFromRequest,
  salesforceJwtConnectSchema,
  salesforceRedirectUri,
  salesforceTokensConnectSchema,
} from './salesforce-connector';
export { createSalesforceAdapter, type SalesforceAdapterOptions } from './salesforce-adapter';
export { createApiBudget, type ApiBudget } from './salesforce-budget';
export {
  createPkcePair,
  DEFAULT_OAUTH_TIMEOUT_MS,
  errorFromOauthAnswer,
  exchangeCode,
  identity,
  idsFromIdentityUrl,
  isHttpsOrLoopback,
  JWT_BEARER_GRANT,
  jwtAudience,
  jwtBearerToken,
  pkceChallenge,
  refreshAccessToken,
  revokeToken,
  salesforceAuthorizeUrl,
  SALESFORCE_SCOPES,
  signJwtAssertion,
  type PkcePair,
  type SalesforceIdentity,
  type SalesforceTokens,
} from './salesforce-oauth';
export {
  DEALREG_OPPORTUNITY_FIELDS,
  SALESFORCE_DEPLOY_HINT,
  SALESFORCE_PERMISSION_SET,
  SALESFORCE_REGISTRATION_ID_FIELD,
  SALESFORCE_REQUIRED_FIELDS,
  type DealregFieldSpec,
} from './salesforce-schema';
export { defaultSalesforceMapping, SALESFORCE_DEFAULT_PIPELINE } from './salesforce-mapping-defaults';
