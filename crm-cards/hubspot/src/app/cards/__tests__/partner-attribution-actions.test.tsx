// The actions dealreg lists, and only those: approve, reject with a reason, approve an extension. After
// an action the view dealreg answers with replaces the old one (no page reload) and HubSpot shows an alert.
import { Alert, Button, TextArea, Text } from '@hubspot/ui-extensions';
import { answer, approvedWithSplit, BASE, pendingForManager, pendingForViewer, registrationView } from './card-test-kit';
import { renderCard, typeInto } from './render-card';

const REGISTRATION_ID = '019a0000-0000-7000-8000-000000000001';
const EXTENSION_ID = '019a0000-0000-7000-8000-0000000000e1';
const actionCalls = (card: ReturnType<typeof renderCard>) => card.fetch.mock.calls.filter(([url]) => String(url).endsWith('/cards/hubspot/actions'));

async function renderPending(view = pendingForManager()) {
  const card = renderCard();
  card.fetch.mockImplementationOnce(() => answer(200, view));
  await card.waitFor(() => expect(card.maybeFindByTestId(Text, 'verdict')).not.toBeNull());
  return card;
}

test('a partner manager sees Approve and Reject; a click on Approve POSTs the action and the answered view replaces the card', async () => {
  const card = await renderPending();
  expect(card.findAll(Button).map((b) => b.text)).toEqual(['Approve', 'Reject']);

  card.fetch.mockImplementationOnce(() => answer(200, { ok: true, action: 'approve', view: approvedWithSplit() }));
  card.findByTestId(Button, 'action-approve').trigger('onClick');
  expect(card.findByTestId(Button, 'action-approve').text).toBe('Approve…');
  expect(card.findByTestId(Button, 'action-reject').props.disabled).toBe(true);

  await card.waitFor(() => expect(card.findByTestId(Text, 'verdict').text).toBe('Approved by a partner manager'));
  expect(actionCalls(card)).toEqual([
    [`${BASE}/cards/hubspot/actions`, { method: 'POST', body: { dealId: '123', registrationId: REGISTRATION_ID, action: 'approve' } }],
  ]);
  expect(card.cardText()).toContain('Approved');
  expect(card.cardText()).toContain('Protected for 34 more days (until 2027-03-02)');
  expect(card.findAll(Button)).toHaveLength(0); // the new view lists no actions
  expect(card.mocks.actions.addAlert.calls).toEqual([[{ type: 'success', title: 'Approve', message: 'Done. The registration is now Approved.' }]]);
  expect(card.mocks.actions.reloadPage.called).toBe(false);
  expect(card.fetch).toHaveBeenCalledTimes(2); // no reload of the view either: the answer carried it
});

test('Reject asks for a reason, refuses to send without one, then sends it and shows the rejected view', async () => {
  const card = await renderPending();
  card.findByTestId(Button, 'action-reject').trigger('onClick');
  const reason = card.findByTestId(TextArea, 'reason');
  expect(reason.props.label).toBe('Reason (Reject)');
  expect(card.maybeFindByTestId(Button, 'action-approve')).toBeNull(); // one decision at a time

  card.findByTestId(Button, 'confirm-reason').trigger('onClick');
  expect(card.findByTestId(TextArea, 'reason').props.validationMessage).toBe('A reason is required.');
  typeInto(card.findByTestId(TextArea, 'reason'), '   ');
  card.findByTestId(Button, 'confirm-reason').trigger('onClick');
  expect(card.findByTestId(TextArea, 'reason').props.error).toBe(true);
  expect(actionCalls(card)).toHaveLength(0);

  const rejected = registrationView({
    status: 'rejected',
    statusLabel: 'Rejected',
    statusTone: 'danger',
    protection: { startsOn: null, endsOn: null, daysLeft: null, label: 'Not protected: rejected', tone: 'danger' },
    actions: [],
    actionsNote: null,
  });
  card.fetch.mockImplementationOnce(() => answer(200, { ok: true, action: 'reject', view: rejected }));
  typeInto(card.findByTestId(TextArea, 'reason'), '  Umbrella is a named account of Dana Direct.  ');
  expect(card.findByTestId(TextArea, 'reason').props.error).toBe(false);
  card.findByTestId(Button, 'confirm-reason').trigger('onClick');

  await card.waitFor(() => expect(card.cardText()).toContain('Not protected: rejected'));
  expect(actionCalls(card)).toEqual([
    [
      `${BASE}/cards/hubspot/actions`,
      { method: 'POST', body: { dealId: '123', registrationId: REGISTRATION_ID, action: 'reject', reason: 'Umbrella is a named account of Dana Direct.' } },
    ],
  ]);
  expect(card.cardText()).toContain('Rejected');
  expect(card.maybeFind(TextArea)).toBeNull(); // the reason form closes with the new view
  expect(card.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({ type: 'success', title: 'Reject' });
});

test('Cancel closes the reason form without sending anything', async () => {
  const card = await renderPending();
  card.findByTestId(Button, 'action-reject').trigger('onClick');
  card.findByTestId(Button, 'cancel-reason').trigger('onClick');
  expect(card.findAll(Button).map((b) => b.text)).toEqual(['Approve', 'Reject']);
  expect(actionCalls(card)).toHaveLength(0);
});

test('an action dealreg refuses shows its message and keeps the view as it was', async () => {
  const card = await renderPending();
  card.fetch.mockImplementationOnce(() => answer(409, { error: { code: 'INVALID_TRANSITION', message: 'This registration was already rejected by Pat Manager.' } }));
  card.findByTestId(Button, 'action-approve').trigger('onClick');

  await card.waitFor(() => expect(card.maybeFindByTestId(Alert, 'action-error')).not.toBeNull());
  const error = card.findByTestId(Alert, 'action-error');
  expect(error.props.title).toBe('Approve failed');
  expect(error.text).toBe('This registration was already rejected by Pat Manager.');
  expect(card.cardText()).toContain('Pending review');
  expect(card.findByTestId(Button, 'action-approve').props.disabled).toBe(false); // can try again
  expect(card.mocks.actions.addAlert.called).toBe(false);
});

test('a 403 from dealreg (role changed since the view was loaded) is shown as dealreg words it', async () => {
  const card = await renderPending();
  card.fetch.mockImplementationOnce(() => answer(403, { error: { code: 'FORBIDDEN', message: 'Only partner managers can approve registrations.' } }));
  card.findByTestId(Button, 'action-approve').trigger('onClick');
  await card.waitFor(() => expect(card.findByTestId(Alert, 'action-error').text).toBe('Only partner managers can approve registrations.'));
});

test('a viewer sees the registration but no buttons, and the note that says why', async () => {
  const card = await renderPending(pendingForViewer());
  expect(card.findAll(Button)).toHaveLength(0);
  expect(card.findByTestId(Text, 'actions-note').text).toBe('Only partner managers can approve registrations.');
  expect(card.cardText()).toContain('Initech Partners');
  expect(card.cardText()).toContain('Open opportunity on this account');
});

test('a pending extension is shown, and "Approve 30-day extension" sends the extension request id', async () => {
  const withExtension = approvedWithSplit({
    extension: { id: EXTENSION_ID, days: 30, reason: 'Procurement review takes another month', requestedOn: '2026-11-25' },
    actions: [{ id: 'approve_extension', label: 'Approve 30-day extension', requiresReason: false, extensionRequestId: EXTENSION_ID }],
  });
  const card = await renderPending(withExtension);
  const extension = card.findByTestId(Alert, 'pending-extension');
  expect(extension.props.title).toBe('Extension requested: 30 more days');
  expect(extension.text).toBe('Requested on 2026-11-25: “Procurement review takes another month”');

  const extended = approvedWithSplit({
    protection: { startsOn: '2026-11-27', endsOn: '2027-04-01', daysLeft: 64, label: 'Protected for 64 more days (until 2027-04-01)', tone: 'success' },
  });
  card.fetch.mockImplementationOnce(() => answer(200, { ok: true, action: 'approve_extension', view: extended }));
  card.findByTestId(Button, 'action-approve_extension').trigger('onClick');

  await card.waitFor(() => expect(card.cardText()).toContain('Protected for 64 more days (until 2027-04-01)'));
  expect(actionCalls(card)[0]?.[1]).toEqual({
    method: 'POST',
    body: { dealId: '123', registrationId: REGISTRATION_ID, action: 'approve_extension', extensionRequestId: EXTENSION_ID },
  });
  expect(card.maybeFindByTestId(Alert, 'pending-extension')).toBeNull();
});
