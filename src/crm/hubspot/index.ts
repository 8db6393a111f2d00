// The HubSpot connector's public surface: the adapter, OAuth helpers, the schema dealreg provisions,
// and the pure error mapping (for the token source and tests).
export {
  createHubspotAdapter,
  HUBSPOT_BATCH_SIZE,
  HUBSPOT_HISTORY_BATCH_SIZE,
  HUBSPOT_PAGE_SIZE,
  HUBSPOT_SEARCH_LIMIT,
  type HubspotAdapter,
  type HubspotAdapterOptions,
} from './hubspot-adapter';
export {
  exchangeCode,
  HUBSPOT_TOKEN_PATH,
  hubspotAuthorizeUrl,
  introspect,
  refreshAccessToken,
  revokeRefreshToken,
  type HubspotTokenInfo,
  type HubspotTokens,
} from './hubspot-oauth';
export {
  DEALREG_DEAL_PROPERTIES,
  DEALREG_PROPERTY_GROUP,
  propertyCreateInput,
  REGISTRATION_ID_PROPERTY,
  type DealregPropertyOption,
  type DealregPropertySpec,
} from './hubspot-schema';
export {
  errorFromAnswer,
  errorFromBatchItem,
  errorFromNetwork,
  errorFromOauthAnswer,
  rateLimitInfo,
  retryAfterMs,
  uniqueValueClash,
  type HubspotAnswer,
} from './hubspot-errors';
export { DEFAULT_TIMEOUT_MS, HUBSPOT_SDK_OPTIONS, createHubspotClient, type HubspotLogger } from './hubspot-transport';
