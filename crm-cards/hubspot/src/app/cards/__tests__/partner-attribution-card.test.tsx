// What a rep reads on the deal: loading, no partner, dealreg unreachable (and Retry), a registration with
// its protection, reasons and split, and a won deal with a frozen split.
import { Alert, Button, EmptyState, ErrorState, Heading, LoadingSpinner, StatusTag, Table, TableRow, Tag, Text } from '@hubspot/ui-extensions';
import { answer, approvedWithSplit, BASE, emptyView, eventually, pendingForManager, readText, registrationView, wonWithFrozenSplit } from './card-test-kit';
import { renderCard } from './render-card';

test('while dealreg has not answered, the card shows a spinner and asks for this deal’s view with a GET', async () => {
  const card = renderCard();
  expect(card.find(LoadingSpinner).props.label).toBe('Loading partner attribution…');
  await eventually(() => expect(card.fetch).toHaveBeenCalledTimes(1));
  expect(card.fetch).toHaveBeenCalledWith(`${BASE}/cards/hubspot/view?dealId=123`, { method: 'GET' }); // HubSpot's mock context.crm.objectId
  expect(card.maybeFind(LoadingSpinner)).not.toBeNull();
});

test('a deal without a partner shows dealreg’s empty state: "No partner on this deal", no table, no buttons', async () => {
  const card = renderCard();
  card.fetch.mockImplementationOnce(() => answer(200, emptyView()));
  await card.waitFor(() => expect(card.maybeFind(EmptyState)).not.toBeNull());
  const empty = card.find(EmptyState);
  expect(empty.props.title).toBe('No partner on this deal');
  expect(readText(empty)).toBe('No partner on this deal No partner has registered this deal or its company.');
  expect(card.maybeFind(Table)).toBeNull();
  expect(card.findAll(Button)).toHaveLength(0);
});

test('when dealreg fails, the card shows its message in an ErrorState, and Retry loads the view', async () => {
  const card = renderCard();
  card.fetch
    .mockImplementationOnce(() => answer(503, { error: { code: 'NOT_READY', message: 'dealreg is starting up, try again in a minute.' } }))
    .mockImplementationOnce(() => answer(200, pendingForManager()));
  await card.waitFor(() => expect(card.maybeFind(ErrorState)).not.toBeNull());
  expect(card.find(ErrorState).props.title).toBe('Partner attribution could not be loaded');
  expect(readText(card.find(ErrorState))).toContain('dealreg is starting up, try again in a minute.');

  card.findByTestId(Button, 'retry').trigger('onClick');
  expect(card.maybeFind(LoadingSpinner)).not.toBeNull();
  await card.waitFor(() => expect(card.maybeFind(Heading)).not.toBeNull());
  expect(card.fetch).toHaveBeenCalledTimes(2);
  expect(card.fetch.mock.calls[1]).toEqual([`${BASE}/cards/hubspot/view?dealId=123`, { method: 'GET' }]);
  expect(card.find(Heading).text).toBe('Initech Partners');
});

test('a network failure and a document that is not a card view both end in the error state, not a crash', async () => {
  const offline = renderCard();
  offline.fetch.mockImplementationOnce(() => Promise.reject(new Error('Request timed out after 15000ms')));
  await offline.waitFor(() => expect(offline.maybeFind(ErrorState)).not.toBeNull());
  expect(readText(offline.find(ErrorState))).toContain('dealreg did not answer (Request timed out after 15000ms).');

  const garbled = renderCard();
  const view = pendingForManager();
  garbled.fetch.mockImplementationOnce(() => answer(200, { ...view, kind: 'registration', registration: { ...(view.kind === 'registration' && view.registration), reasons: 'none' } }));
  await garbled.waitFor(() => expect(garbled.maybeFind(ErrorState)).not.toBeNull());
  expect(readText(garbled.find(ErrorState))).toContain('dealreg sent a card this version of the card cannot read.');

  const unknownKind = renderCard();
  unknownKind.fetch.mockImplementationOnce(() => answer(200, { kind: 'maintenance', viewer: { id: 'hubspot:1', role: 'viewer' }, generatedAt: 'now' }));
  await unknownKind.waitFor(() => expect(unknownKind.maybeFind(ErrorState)).not.toBeNull());
  expect(readText(unknownKind.find(ErrorState))).toContain('dealreg sent a card this version of the card cannot read.');
});

test('a pending registration reads: partner, type and tier, status, protection, verdict and each reason with its evidence, the contact', async () => {
  const card = renderCard();
  const pending = pendingForManager();
  const reasons = pending.kind === 'registration' ? pending.registration.reasons : [];
  const twoConflicts = registrationView({
    verdictLabel: 'Needs review: 2 conflicts',
    reasons: [
      ...reasons,
      { code: 'DUPLICATE_REGISTRATION', title: 'Registered by another partner', detail: 'Hooli Referrals registered umbrella.com on 2026-10-01 (approved, protected until 2027-01-01).', tone: 'danger' },
    ],
  });
  card.fetch.mockImplementationOnce(() => answer(200, twoConflicts));
  await card.waitFor(() => expect(card.maybeFind(Heading)).not.toBeNull());

  expect(card.findByTestId(Heading, 'partner-name').text).toBe('Initech Partners');
  expect(card.findByTestId(Tag, 'partner-type').text).toBe('Reseller');
  expect(card.findByTestId(Tag, 'partner-tier').text).toBe('Gold');
  const status = card.findByTestId(Tag, 'registration-status');
  expect({ text: status.text, variant: status.props.variant }).toEqual({ text: 'Pending review', variant: 'warning' });
  expect(card.findByTestId(StatusTag, 'protection').text).toBe('Not protected: pending review');
  expect(card.findByTestId(Text, 'verdict').text).toBe('Needs review: 2 conflicts');

  expect(card.findAll(Alert).map((a) => ({ title: a.props.title, detail: readText(a).replace(`${a.props.title} `, ''), variant: a.props.variant }))).toEqual([
    { title: 'Open opportunity on this account', detail: 'Deal “Umbrella renewal” (Presentation scheduled) is open on umbrella.com, owned by Dana Direct.', variant: 'warning' },
    { title: 'Registered by another partner', detail: 'Hooli Referrals registered umbrella.com on 2026-10-01 (approved, protected until 2027-01-01).', variant: 'danger' },
  ]);
  expect(readText(card.findByTestId(Alert, 'reason-0'))).toBe(
    'Open opportunity on this account Deal “Umbrella renewal” (Presentation scheduled) is open on umbrella.com, owned by Dana Direct.',
  );

  expect(card.findByTestId(Text, 'partner-contact').text).toBe('Penny Partner · penny@initech.example');
  expect(card.cardText()).toContain('Company Umbrella Corp (umbrella.com) Submitted 2026-11-20 Partner contact Penny Partner · penny@initech.example');
});

test('an approved registration shows "34 more days" of protection and the split: partner, role, percent and amount per row', async () => {
  const card = renderCard();
  card.fetch.mockImplementationOnce(() => answer(200, approvedWithSplit()));
  await card.waitFor(() => expect(card.maybeFind(Table)).not.toBeNull());

  const status = card.findByTestId(Tag, 'registration-status');
  expect({ text: status.text, variant: status.props.variant }).toEqual({ text: 'Approved', variant: 'success' });
  const protection = card.findByTestId(StatusTag, 'protection');
  expect(protection.text).toBe('Protected for 34 more days (until 2027-03-02)');
  expect(protection.props.variant).toBe('success');
  expect(card.cardText()).toContain('34 more days');
  expect(card.findByTestId(Text, 'verdict').text).toBe('Approved by a partner manager');
  expect(card.findAll(Alert)).toHaveLength(0); // no reasons: no conflict alerts

  const rows = card.find(Table).findAll(TableRow).map((row) => readText(row));
  expect(rows).toEqual([
    'Partner Role Share Amount',
    'Initech Partners Registered 2026-11-20 Sourcing partner 70% $33,600.00',
    'Hooli Referrals Touch 2026-11-24 (registration 019a…) Influencing partner 30% $14,400.00',
  ]);
  expect(card.findByTestId(Text, 'attribution-total').text).toBe('$48,000.00');
  expect(card.maybeFindByTestId(Tag, 'attribution-frozen')).toBeNull();
});

test('a won deal shows its split frozen with the won amount, and nothing left to decide', async () => {
  const card = renderCard();
  card.fetch.mockImplementationOnce(() => answer(200, wonWithFrozenSplit()));
  await card.waitFor(() => expect(card.maybeFind(Table)).not.toBeNull());

  expect(card.findByTestId(Tag, 'registration-status').text).toBe('Won');
  expect(card.findByTestId(Tag, 'attribution-frozen').text).toBe('Frozen when won');
  expect(card.findByTestId(Text, 'attribution-total').text).toBe('$52,000.00 (frozen when won)');
  expect(readText(card.findByTestId(TableRow, 'split-0'))).toBe('Initech Partners Registered 2026-11-20 Sourcing partner 70% $36,400.00');
  expect(readText(card.findByTestId(TableRow, 'split-1'))).toBe('Hooli Referrals Influencing partner 30% $15,600.00');
  expect(card.findAll(Button)).toHaveLength(0);
});
