// The card's two calls to dealreg, through `hubspot.fetch` (HubSpot signs each request with signature v3
// and appends userId, userEmail, portalId and appId; the card sends only the deal). The fetch function is
// a parameter so that tests hand in a fake: `@hubspot/ui-extensions/testing` has no mock for it.
import type { hubspot } from '@hubspot/ui-extensions';
import type { CardActionId, CardActionResult, CardView } from './card-view-model';
import { CARD_ACTIONS_PATH, CARD_VIEW_PATH } from './config';
import { isCardActionResult, isCardView, readErrorBody } from './parse-card-view';

export type CardFetch = typeof hubspot.fetch;

export interface CardActionRequest {
  dealId: string;
  registrationId: string;
  action: CardActionId;
  reason?: string;
  extensionRequestId?: string;
}

/** Why a call failed, in words the card can show. `code` is dealreg's (FORBIDDEN, INVALID_TRANSITION, ...) or ours. */
export class DealregCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'DealregCallError';
  }
}

export async function fetchCardView(fetch: CardFetch, baseUrl: string, dealId: string): Promise<CardView> {
  const body = await call(fetch, `${baseUrl}${CARD_VIEW_PATH}?dealId=${encodeURIComponent(dealId)}`, { method: 'GET' });
  if (!isCardView(body)) throw unreadable();
  return body;
}

export async function postCardAction(fetch: CardFetch, baseUrl: string, request: CardActionRequest): Promise<CardActionResult> {
  // Only the keys that apply: dealreg validates the body strictly.
  const body: Record<string, string> = { dealId: request.dealId, registrationId: request.registrationId, action: request.action };
  if (request.reason !== undefined) body.reason = request.reason;
  if (request.extensionRequestId !== undefined) body.extensionRequestId = request.extensionRequestId;
  const answer = await call(fetch, `${baseUrl}${CARD_ACTIONS_PATH}`, { method: 'POST', body });
  if (!isCardActionResult(answer)) throw unreadable();
  return answer;
}

async function call(fetch: CardFetch, url: string, options: Parameters<CardFetch>[1]): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, options);
  } catch (err) {
    // Timeout (15 s), connection refused, URL not in permittedUrls.fetch, ...
    throw new DealregCallError('UNREACHABLE', `dealreg did not answer (${err instanceof Error ? err.message : String(err)}).`, null);
  }
  const text = await response.text().catch(() => '');
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const error = readErrorBody(json);
    if (error) throw new DealregCallError(error.code, error.message, response.status);
    throw new DealregCallError('HTTP_ERROR', `dealreg answered ${response.status}.`, response.status);
  }
  return json;
}

const unreadable = () => new DealregCallError('UNREADABLE', 'dealreg sent a card this version of the card cannot read.', null);
