// The HubSpot card carries its own copy of the card contract (its build cannot import from src/). This
// file proves the copy is the contract: the type assertions below are checked by
// `npx tsc --noEmit -p tsconfig.json` (a drift fails the type check), the tests by jest.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type * as Card from '../../../crm-cards/hubspot/src/app/cards/card-view-model';
import { isCardActionResult, isCardView } from '../../../crm-cards/hubspot/src/app/cards/parse-card-view';
import type * as Contract from '../../../src/domain/card-view-model';

/** true only when A and B are identical types (not merely assignable one way). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <T extends true>(): T | undefined => undefined;

same<Same<Card.CardTone, Contract.CardTone>>();
same<Same<Card.CardActionId, Contract.CardActionId>>();
same<Same<Card.CardAction, Contract.CardAction>>();
same<Same<Card.CardReason, Contract.CardReason>>();
same<Same<Card.CardAttributionPartner, Contract.CardAttributionPartner>>();
same<Same<Card.CardRegistration, Contract.CardRegistration>>();
same<Same<Card.CardViewer, Contract.CardViewer>>();
same<Same<Card.CardView, Contract.CardView>>();
same<Same<Card.CardActionResult, Contract.CardActionResult>>();

const exportedTypes = (file: string) =>
  [...readFileSync(path.resolve(__dirname, '..', '..', '..', file), 'utf8').matchAll(/^export (?:type|interface) (\w+)/gm)].map((m) => m[1]).sort();

test('the card’s copy exports every type of the contract, and only those (each is compared above)', () => {
  const contract = exportedTypes('src/domain/card-view-model.ts');
  expect(exportedTypes('crm-cards/hubspot/src/app/cards/card-view-model.ts')).toEqual(contract);
  expect(contract).toEqual(['CardAction', 'CardActionId', 'CardActionResult', 'CardAttributionPartner', 'CardReason', 'CardRegistration', 'CardTone', 'CardView', 'CardViewer']);
});

// A document typed by dealreg's contract, as the card endpoints would send it.
const registration: Contract.CardRegistration = {
  id: '019a0000-0000-7000-8000-000000000001',
  status: 'approved',
  statusLabel: 'Approved',
  statusTone: 'success',
  company: 'Acme Inc. (acme.com)',
  submittedOn: '2026-11-20',
  partner: { id: 'p1', name: 'Initech Partners', type: 'technology', typeLabel: 'Technology partner', tier: 'silver', tierLabel: 'Silver', contact: { name: null, email: 'penny@initech.example' } },
  protection: { startsOn: '2026-11-27', endsOn: '2027-03-02', daysLeft: 0, label: 'Protected until today (2027-03-02)', tone: 'warning' },
  reasons: [{ code: 'DUPLICATE_REGISTRATION', title: 'Registered before', detail: 'Hooli registered acme.com on 2026-10-01.', tone: 'danger' }],
  verdictLabel: 'Needs review: 1 conflict',
  attribution: {
    frozen: false,
    currency: null,
    total: null,
    totalLabel: 'No amount yet',
    partners: [{ partnerId: 'p1', name: 'Initech Partners', role: 'influencing', roleLabel: 'Influencing partner', percent: 100, amount: null, amountLabel: '—', evidence: null }],
  },
  extension: { id: 'ext-1', days: 30, reason: null, requestedOn: '2026-11-25' },
  actions: [{ id: 'approve_extension', label: 'Approve 30-day extension', requiresReason: false, extensionRequestId: 'ext-1' }],
  actionsNote: null,
};
const viewer: Contract.CardViewer = { id: 'hubspot:701', role: 'revops' };

test('the card’s guard accepts what the contract allows: a registration (nulls included), the empty state, an action result', () => {
  const view: Contract.CardView = { kind: 'registration', registration, viewer, generatedAt: '2026-11-27T10:00:00.000Z' };
  const empty: Contract.CardView = { kind: 'empty', title: 'No partner on this deal', message: 'Nobody registered it.', viewer, generatedAt: '2026-11-27T10:00:00.000Z' };
  const result: Contract.CardActionResult = { ok: true, action: 'approve_extension', view };
  expect([isCardView(view), isCardView(empty), isCardActionResult(result)]).toEqual([true, true, true]);
  // JSON drops undefined keys: an action without extensionRequestId must still pass.
  const plain = JSON.parse(JSON.stringify({ ...view, registration: { ...registration, actions: [{ id: 'approve', label: 'Approve', requiresReason: false }] } }));
  expect(isCardView(plain)).toBe(true);
});

test('the card’s guard rejects documents it could not render', () => {
  const view = { kind: 'registration', registration, viewer, generatedAt: '2026-11-27T10:00:00.000Z' };
  const broken = [
    null,
    'Service Unavailable',
    { ...view, kind: 'registrations' },
    { ...view, registration: { ...registration, reasons: null } },
    { ...view, registration: { ...registration, statusTone: 'red' } },
    { ...view, registration: { ...registration, actions: [{ id: 'delete', label: 'Delete', requiresReason: false }] } },
    { ...view, registration: { ...registration, attribution: { ...registration.attribution, partners: [{ name: 'x' }] } } },
    { ...view, viewer: undefined },
    { kind: 'empty', viewer, generatedAt: 'now' },
  ];
  expect(broken.map(isCardView)).toEqual(broken.map(() => false));
  expect(isCardActionResult({ ok: false, action: 'approve', view })).toBe(false);
});
