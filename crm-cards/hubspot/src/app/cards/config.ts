// Where the card finds dealreg. HubSpot bundles this file into the card, so the value is fixed at
// `hs project upload` time (a card has no environment variables).
//
// To point the card at your dealreg: replace the placeholder with dealreg's PUBLIC_BASE_URL (HTTPS, no
// trailing slash) here AND in `permittedUrls.fetch` of ../app-hsmeta.json (HubSpot refuses any other
// URL), then upload again. test/unit/crm/hubspot-project.test.ts fails while the two disagree.
export const DEALREG_BASE_URL = 'https://dealreg.example.com';

/** The two card endpoints, relative to DEALREG_BASE_URL (src/http/cards/ on dealreg's side). */
export const CARD_VIEW_PATH = '/cards/hubspot/view';
export const CARD_ACTIONS_PATH = '/cards/hubspot/actions';
