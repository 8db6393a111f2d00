// What the card tests share: a fake `hubspot.fetch` that answers like dealreg, the views dealreg would
// send (typed with the card's copy of the contract), and a reader for what a rep sees on the card.
import type { RenderedNode } from '@hubspot/ui-extensions/testing';
import { RenderedNodeType } from '@hubspot/ui-extensions/testing';
import type { CardRegistration, CardView, CardViewer } from '../card-view-model';
import type { CardFetch } from '../dealreg-client';

export const BASE = 'https://dealreg.example.com';

/** An HTTP answer from dealreg, as `hubspot.fetch` resolves it. */
export const answer = (status: number, body: unknown) =>
  Promise.resolve(new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }));

/** A `hubspot.fetch` stand-in: answers are queued per test with mockImplementationOnce; calls are recorded. */
export const fakeFetch = () => jest.fn<ReturnType<CardFetch>, Parameters<CardFetch>>(() => new Promise<Response>(() => {}));

/**
 * Every text a rep reads inside a node, depth first, joined by single spaces: text nodes, and the
 * titles and labels components show themselves (Alert and EmptyState titles, DescriptionListItem labels).
 */
export function readText(node: RenderedNode): string {
  const parts: string[] = [];
  const walk = (n: RenderedNode) => {
    if (n.nodeType === RenderedNodeType.Text) return void parts.push(n.text);
    if (n.nodeType === RenderedNodeType.Element) {
      const { title, label } = n.props as { title?: unknown; label?: unknown };
      for (const shown of [title, label]) if (typeof shown === 'string') parts.push(shown);
    }
    for (const child of n.childNodes) walk(child);
  };
  walk(node);
  return parts.join(' ').replace(/\s+/g, ' ').trim();
}

/** Retries a check until it passes (for effects that change nothing on screen, like a request sent). */
export async function eventually(check: () => void, timeoutMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

const manager: CardViewer = { id: 'hubspot:701', role: 'partner_manager' };
export const viewerOnly: CardViewer = { id: 'hubspot:702', role: 'viewer' };

const pendingRegistration: CardRegistration = {
  id: '019a0000-0000-7000-8000-000000000001',
  status: 'pending_review',
  statusLabel: 'Pending review',
  statusTone: 'warning',
  company: 'Umbrella Corp (umbrella.com)',
  submittedOn: '2026-11-20',
  partner: {
    id: 'partner-initech',
    name: 'Initech Partners',
    type: 'reseller',
    typeLabel: 'Reseller',
    tier: 'gold',
    tierLabel: 'Gold',
    contact: { name: 'Penny Partner', email: 'penny@initech.example' },
  },
  protection: { startsOn: null, endsOn: null, daysLeft: null, label: 'Not protected: pending review', tone: 'neutral' },
  reasons: [
    {
      code: 'OPEN_OPPORTUNITY',
      title: 'Open opportunity on this account',
      detail: 'Deal “Umbrella renewal” (Presentation scheduled) is open on umbrella.com, owned by Dana Direct.',
      tone: 'warning',
    },
  ],
  verdictLabel: 'Needs review: 1 conflict',
  attribution: {
    frozen: false,
    currency: 'USD',
    total: 48000,
    totalLabel: '$48,000.00',
    partners: [
      { partnerId: 'partner-initech', name: 'Initech Partners', role: 'sourcing', roleLabel: 'Sourcing partner', percent: 100, amount: 48000, amountLabel: '$48,000.00', evidence: 'Registered 2026-11-20' },
    ],
  },
  extension: null,
  actions: [
    { id: 'approve', label: 'Approve', requiresReason: false },
    { id: 'reject', label: 'Reject', requiresReason: true },
  ],
  actionsNote: null,
};

export const registrationView = (patch: Partial<CardRegistration> = {}, viewer: CardViewer = manager): CardView => ({
  kind: 'registration',
  registration: { ...pendingRegistration, ...patch },
  viewer,
  generatedAt: '2026-11-27T10:00:00.000Z',
});

/** Pending review, seen by a partner manager: Approve and Reject. */
export const pendingForManager = () => registrationView();

/** Pending review, seen by a user without a dealreg role: no actions, the note says why. */
export const pendingForViewer = () =>
  registrationView({ actions: [], actionsNote: 'Only partner managers can approve registrations.' }, viewerOnly);

/** The same registration once approved: protected, split between a sourcing and an influencing partner. */
export const approvedWithSplit = (patch: Partial<CardRegistration> = {}) =>
  registrationView({
    status: 'approved',
    statusLabel: 'Approved',
    statusTone: 'success',
    protection: { startsOn: '2026-11-27', endsOn: '2027-03-02', daysLeft: 34, label: 'Protected for 34 more days (until 2027-03-02)', tone: 'success' },
    reasons: [],
    verdictLabel: 'Approved by a partner manager',
    attribution: {
      frozen: false,
      currency: 'USD',
      total: 48000,
      totalLabel: '$48,000.00',
      partners: [
        { partnerId: 'partner-initech', name: 'Initech Partners', role: 'sourcing', roleLabel: 'Sourcing partner', percent: 70, amount: 33600, amountLabel: '$33,600.00', evidence: 'Registered 2026-11-20' },
        { partnerId: 'partner-hooli', name: 'Hooli Referrals', role: 'influencing', roleLabel: 'Influencing partner', percent: 30, amount: 14400, amountLabel: '$14,400.00', evidence: 'Touch 2026-11-24 (registration 019a…)' },
      ],
    },
    actions: [],
    ...patch,
  });

/** Won: the split is frozen with the won amount, nothing left to decide. */
export const wonWithFrozenSplit = () =>
  registrationView({
    status: 'won',
    statusLabel: 'Won',
    statusTone: 'success',
    protection: { startsOn: '2026-11-27', endsOn: '2027-03-02', daysLeft: null, label: 'Deal won on 2026-12-15: protection no longer needed', tone: 'success' },
    reasons: [],
    verdictLabel: 'Approved by a partner manager',
    attribution: {
      frozen: true,
      currency: 'USD',
      total: 52000,
      totalLabel: '$52,000.00 (frozen when won)',
      partners: [
        { partnerId: 'partner-initech', name: 'Initech Partners', role: 'sourcing', roleLabel: 'Sourcing partner', percent: 70, amount: 36400, amountLabel: '$36,400.00', evidence: 'Registered 2026-11-20' },
        { partnerId: 'partner-hooli', name: 'Hooli Referrals', role: 'influencing', roleLabel: 'Influencing partner', percent: 30, amount: 15600, amountLabel: '$15,600.00', evidence: null },
      ],
    },
    actions: [],
    actionsNote: null,
  });

export const emptyView = (): CardView => ({
  kind: 'empty',
  title: 'No partner on this deal',
  message: 'No partner has registered this deal or its company.',
  viewer: manager,
  generatedAt: '2026-11-27T10:00:00.000Z',
});
