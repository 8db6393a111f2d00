// The partner card as a rep reads it: each test feeds the component a CardView (the JSON dealreg sends through
// DealregCardController) and asserts on the words and buttons on screen. The Apex methods are mocked; the
// lightning-* base components are sfdx-lwc-jest's stubs, which render no text of their own, so a badge or a
// button is read through its label.
import { createElement } from 'lwc';
import { notifyRecordUpdateAvailable } from 'lightning/uiRecordApi';
import DealregPartnerCard from 'c/dealregPartnerCard';
import getView from '@salesforce/apex/DealregCardController.getView';
import act from '@salesforce/apex/DealregCardController.act';

jest.mock('@salesforce/apex/DealregCardController.getView', () => ({ default: jest.fn() }), { virtual: true });
jest.mock('@salesforce/apex/DealregCardController.act', () => ({ default: jest.fn() }), { virtual: true });

const OPPORTUNITY_ID = '006000000000001AAA';
const REGISTRATION_ID = '019a0000-0000-7000-8000-000000000001';

// --- CardView fixtures, shaped like src/domain/card-view-model.ts

function registration(overrides = {}) {
    return {
        id: REGISTRATION_ID,
        status: 'pending_review',
        statusLabel: 'Pending review',
        statusTone: 'warning',
        company: 'Acme Inc. (acme.com)',
        submittedOn: '2026-11-20',
        partner: {
            id: 'p-1',
            name: 'Northwind Partners',
            type: 'reseller',
            typeLabel: 'Reseller',
            tier: 'gold',
            tierLabel: 'Gold',
            contact: { name: 'Pat Partner', email: 'pat@northwind.example' }
        },
        protection: { startsOn: null, endsOn: null, daysLeft: null, label: 'Not protected: pending review', tone: 'neutral' },
        reasons: [
            {
                code: 'OPEN_OPPORTUNITY',
                title: 'Open opportunity on this account',
                detail: 'Deal “Acme renewal” (Proposal) is open on acme.com, owned by Dana Direct.',
                tone: 'warning'
            }
        ],
        verdictLabel: 'Needs review: 1 conflict',
        attribution: {
            frozen: false,
            currency: 'USD',
            total: 60000,
            totalLabel: '$60,000.00',
            partners: [
                {
                    partnerId: 'p-1',
                    name: 'Northwind Partners',
                    role: 'sourcing',
                    roleLabel: 'Sourcing partner',
                    percent: 100,
                    amount: 60000,
                    amountLabel: '$60,000.00',
                    evidence: 'Registered 2026-11-20'
                }
            ]
        },
        extension: null,
        actions: [],
        actionsNote: null,
        ...overrides
    };
}

const viewOf = (reg, role = 'partner_manager') => ({
    kind: 'registration',
    registration: reg,
    viewer: { id: 'salesforce:005000000000001', role },
    generatedAt: '2026-12-02T08:00:00.000Z'
});

const APPROVE = { id: 'approve', label: 'Approve', requiresReason: false };
const REJECT = { id: 'reject', label: 'Reject', requiresReason: true };
const pendingForApprover = () => viewOf(registration({ actions: [APPROVE, REJECT] }));

const approved = () =>
    registration({
        status: 'approved',
        statusLabel: 'Approved',
        statusTone: 'success',
        protection: {
            startsOn: '2026-12-02',
            endsOn: '2027-03-02',
            daysLeft: 90,
            label: 'Protected for 90 more days (until 2027-03-02)',
            tone: 'success'
        },
        reasons: [],
        verdictLabel: 'Approved automatically: no conflicts found'
    });

// --- rendering and reading

async function flush() {
    for (let i = 0; i < 5; i += 1) {
        await Promise.resolve();
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
}

function mount() {
    const element = createElement('c-dealreg-partner-card', { is: DealregPartnerCard });
    element.recordId = OPPORTUNITY_ID;
    const toasts = [];
    element.addEventListener('lightning__showtoast', (event) => toasts.push(event.detail));
    document.body.appendChild(element);
    return { element, toasts };
}

const $ = (element, selector) => element.shadowRoot.querySelector(selector);
const $$ = (element, selector) => [...element.shadowRoot.querySelectorAll(selector)];
/**
 * The text a rep reads in a part of the card: its text pieces in order, one space between them (the LWC
 * compiler drops the whitespace between elements that a browser would lay out as separate lines).
 */
function text(node) {
    if (!node) return null;
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    const pieces = [];
    while (walker.nextNode()) pieces.push(walker.currentNode.nodeValue);
    return pieces.join(' ').replace(/\s+/g, ' ').trim();
}
const badges = (element) => Object.fromEntries($$(element, 'lightning-badge').map((b) => [b.dataset.id, b.label]));
const buttons = (element) => $$(element, 'lightning-button').map((b) => b.label);
const button = (element, label) => $$(element, 'lightning-button').find((b) => b.label === label);

afterEach(() => {
    while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
    jest.clearAllMocks();
});

describe('dealregPartnerCard', () => {
    test('shows a spinner while dealreg answers, and asks for this opportunity', async () => {
        getView.mockReturnValue(new Promise(() => {}));
        const { element } = mount();
        await flush();

        expect($(element, 'lightning-spinner').alternativeText).toBe('Loading partner attribution');
        expect($(element, '[data-id="registration"]')).toBeNull();
        expect(getView).toHaveBeenCalledWith({ opportunityId: OPPORTUNITY_ID });
    });

    test('an opportunity no partner registered shows dealreg’s empty state, and no actions', async () => {
        getView.mockResolvedValue(
            JSON.stringify({
                kind: 'empty',
                title: 'No partner on this opportunity',
                message: 'No partner has registered this deal.',
                viewer: { id: 'salesforce:005000000000001', role: 'viewer' },
                generatedAt: '2026-12-02T08:00:00.000Z'
            })
        );
        const { element } = mount();
        await flush();

        expect(text($(element, '[data-id="empty"]'))).toBe('No partner on this opportunity No partner has registered this deal.');
        expect(buttons(element)).toEqual([]);
        expect($(element, 'lightning-spinner')).toBeNull();
    });

    test('when dealreg cannot be reached, the rep reads why and Retry loads the card again', async () => {
        getView.mockRejectedValueOnce({ body: { message: 'dealreg is unavailable right now. Try again later. (dealreg 503)' } });
        const { element } = mount();
        await flush();

        expect(text($(element, '[data-id="error"] p'))).toBe('dealreg is unavailable right now. Try again later. (dealreg 503)');
        expect(buttons(element)).toEqual(['Retry']);

        getView.mockResolvedValueOnce(JSON.stringify(viewOf(approved(), 'viewer')));
        button(element, 'Retry').click();
        await flush();

        expect(getView).toHaveBeenCalledTimes(2);
        expect($(element, '[data-id="error"]')).toBeNull();
        expect(badges(element).status).toBe('Approved');
    });

    test('a response that is not a CardView is shown as an error, not half-rendered', async () => {
        getView.mockResolvedValue(JSON.stringify({ hello: 'world' }));
        const { element } = mount();
        await flush();

        expect(text($(element, '[data-id="error"] p'))).toBe('dealreg sent a view this card cannot show.');
    });

    test('a pending registration shows the partner, its type and tier, the status with its tone, and the verdict with each reason', async () => {
        getView.mockResolvedValue(JSON.stringify(pendingForApprover()));
        const { element } = mount();
        await flush();

        expect(text($(element, '[data-id="partner"] h3'))).toBe('Northwind Partners');
        expect(badges(element)).toEqual({ 'partner-type': 'Reseller', 'partner-tier': 'Gold', status: 'Pending review' });
        expect($(element, '[data-id="status"]').className).toContain('slds-theme_warning');
        expect(text($(element, '[data-id="partner"] p'))).toBe('Acme Inc. (acme.com) · submitted 2026-11-20');
        expect(text($(element, '[data-id="protection"]'))).toBe('Not protected: pending review');
        expect(text($(element, '[data-id="verdict"] > p'))).toBe('Needs review: 1 conflict');
        expect($$(element, '[data-id="reason"]').map(text)).toEqual([
            'Open opportunity on this account Deal “Acme renewal” (Proposal) is open on acme.com, owned by Dana Direct.'
        ]);
        expect(text($(element, '[data-id="contact"]'))).toBe('Partner contact: Pat Partner pat@northwind.example');
        expect($(element, '[data-id="contact"] a').getAttribute('href')).toBe('mailto:pat@northwind.example');
    });

    test('a partner manager sees Approve and Reject; Approve calls act with the registration and shows the new status', async () => {
        getView.mockResolvedValue(JSON.stringify(pendingForApprover()));
        const after = viewOf(approved());
        act.mockResolvedValue(JSON.stringify({ ok: true, action: 'approve', view: after }));
        const { element, toasts } = mount();
        await flush();

        expect(buttons(element)).toEqual(['Approve', 'Reject']);
        expect(button(element, 'Approve').variant).toBe('brand');

        button(element, 'Approve').click();
        await flush();

        expect(act).toHaveBeenCalledTimes(1);
        expect(act).toHaveBeenCalledWith({
            opportunityId: OPPORTUNITY_ID,
            registrationId: REGISTRATION_ID,
            action: 'approve',
            reason: null,
            extensionRequestId: null
        });
        // The returned view replaces the old one, without reloading it from dealreg.
        expect(getView).toHaveBeenCalledTimes(1);
        expect(badges(element).status).toBe('Approved');
        expect(text($(element, '[data-id="protection"]'))).toBe('Protected for 90 more days (until 2027-03-02)');
        expect(buttons(element)).toEqual([]);
        expect(toasts).toEqual([{ title: 'Registration approved', message: 'Acme Inc. (acme.com): Approved', variant: 'success' }]);
        expect(notifyRecordUpdateAvailable).toHaveBeenCalledWith([{ recordId: OPPORTUNITY_ID }]);
    });

    test('Reject asks for a reason first and does not call dealreg without one', async () => {
        getView.mockResolvedValue(JSON.stringify(pendingForApprover()));
        const rejected = viewOf(
            registration({
                status: 'rejected',
                statusLabel: 'Rejected',
                statusTone: 'danger',
                verdictLabel: 'Rejected by Dana Manager: Duplicate of a direct deal'
            })
        );
        act.mockResolvedValue(JSON.stringify({ ok: true, action: 'reject', view: rejected }));
        const { element, toasts } = mount();
        await flush();

        button(element, 'Reject').click();
        await flush();

        const textarea = $(element, '[data-id="reason-section"] lightning-textarea');
        expect(textarea.required).toBe(true);
        expect(textarea.label).toBe('Reason (reject)');
        // While the reason is asked for, the other actions wait.
        expect(button(element, 'Approve').disabled).toBe(true);

        $(element, '[data-id="confirm"]').click();
        await flush();
        expect(act).not.toHaveBeenCalled();
        expect(text($(element, '[data-id="reason-error"]'))).toBe('Give a reason: the partner sees it.');

        textarea.value = '  Duplicate of a direct deal ';
        textarea.dispatchEvent(new CustomEvent('change', { detail: { value: '  Duplicate of a direct deal ' } }));
        await flush();
        expect($(element, '[data-id="reason-error"]')).toBeNull();

        $(element, '[data-id="confirm"]').click();
        await flush();

        expect(act).toHaveBeenCalledWith({
            opportunityId: OPPORTUNITY_ID,
            registrationId: REGISTRATION_ID,
            action: 'reject',
            reason: 'Duplicate of a direct deal',
            extensionRequestId: null
        });
        expect(badges(element).status).toBe('Rejected');
        expect($(element, '[data-id="status"]').className).toContain('slds-theme_error');
        expect($(element, '[data-id="reason-section"]')).toBeNull();
        expect(toasts.map((t) => t.title)).toEqual(['Registration rejected']);
    });

    test('Cancel closes the reason section without calling dealreg', async () => {
        getView.mockResolvedValue(JSON.stringify(pendingForApprover()));
        const { element } = mount();
        await flush();

        button(element, 'Reject').click();
        await flush();
        button(element, 'Cancel').click();
        await flush();

        expect($(element, '[data-id="reason-section"]')).toBeNull();
        expect(button(element, 'Approve').disabled).toBe(false);
        expect(act).not.toHaveBeenCalled();
    });

    test('when dealreg refuses an action, the rep reads why and the card keeps what it showed', async () => {
        getView.mockResolvedValue(JSON.stringify(pendingForApprover()));
        act.mockRejectedValue({ body: { message: 'This registration was already approved. (dealreg 409 CONFLICT)' } });
        const { element, toasts } = mount();
        await flush();

        button(element, 'Approve').click();
        await flush();

        expect(toasts).toEqual([
            { title: 'Approve failed', message: 'This registration was already approved. (dealreg 409 CONFLICT)', variant: 'error', mode: 'sticky' }
        ]);
        expect(badges(element).status).toBe('Pending review');
        expect(button(element, 'Approve').disabled).toBe(false);
        expect(notifyRecordUpdateAvailable).not.toHaveBeenCalled();
    });

    test('a rep without approval rights sees no buttons, only dealreg’s note', async () => {
        getView.mockResolvedValue(
            JSON.stringify(viewOf(registration({ actions: [], actionsNote: 'Only partner managers can approve registrations.' }), 'viewer'))
        );
        const { element } = mount();
        await flush();

        expect(buttons(element)).toEqual([]);
        expect(text($(element, '[data-id="actions-note"]'))).toBe('Only partner managers can approve registrations.');
    });

    test('an approved registration shows the days of protection left and each partner’s share of the amount', async () => {
        const reg = approved();
        reg.attribution = {
            frozen: false,
            currency: 'USD',
            total: 80000,
            totalLabel: '$80,000.00',
            partners: [
                {
                    partnerId: 'p-1',
                    name: 'Northwind Partners',
                    role: 'sourcing',
                    roleLabel: 'Sourcing partner',
                    percent: 70,
                    amount: 56000,
                    amountLabel: '$56,000.00',
                    evidence: 'Registered 2026-11-20'
                },
                {
                    partnerId: 'p-2',
                    name: 'Contoso Consulting',
                    role: 'influencing',
                    roleLabel: 'Influencing partner',
                    percent: 30,
                    amount: 24000,
                    amountLabel: '$24,000.00',
                    evidence: null
                }
            ]
        };
        getView.mockResolvedValue(JSON.stringify(viewOf(reg, 'viewer')));
        const { element } = mount();
        await flush();

        expect(text($(element, '[data-id="protection"]'))).toBe('Protected for 90 more days (until 2027-03-02)');
        expect($(element, '[data-id="protection"]').className).toContain('slds-text-color_success');
        expect(text($(element, '[data-id="verdict"]'))).toBe('Approved automatically: no conflicts found');
        expect(text($(element, '[data-id="attribution-total"]'))).toBe('$80,000.00');
        expect(badges(element).frozen).toBeUndefined();
        expect($$(element, '[data-id="split-row"]').map((row) => [...row.querySelectorAll('td')].map(text))).toEqual([
            ['Northwind Partners Registered 2026-11-20', 'Sourcing partner', '70%', '$56,000.00'],
            ['Contoso Consulting', 'Influencing partner', '30%', '$24,000.00']
        ]);
    });

    test('a won deal shows its split frozen with the won amount', async () => {
        const reg = approved();
        Object.assign(reg, {
            status: 'won',
            statusLabel: 'Won',
            statusTone: 'success',
            protection: { startsOn: '2026-12-02', endsOn: '2027-03-02', daysLeft: null, label: 'Won on 2026-12-20', tone: 'success' },
            attribution: {
                frozen: true,
                currency: 'USD',
                total: 48000,
                totalLabel: '$48,000.00 (frozen when won)',
                partners: [
                    {
                        partnerId: 'p-1',
                        name: 'Northwind Partners',
                        role: 'sourcing',
                        roleLabel: 'Sourcing partner',
                        percent: 100,
                        amount: 48000,
                        amountLabel: '$48,000.00',
                        evidence: 'Registered 2026-11-20'
                    }
                ]
            }
        });
        getView.mockResolvedValue(JSON.stringify(viewOf(reg, 'viewer')));
        const { element } = mount();
        await flush();

        expect(badges(element).status).toBe('Won');
        expect(text($(element, '[data-id="attribution-total"]'))).toBe('$48,000.00 (frozen when won)');
        expect(badges(element).frozen).toBe('Frozen');
        expect($$(element, '[data-id="split-row"] td').map(text)).toEqual([
            'Northwind Partners Registered 2026-11-20',
            'Sourcing partner',
            '100%',
            '$48,000.00'
        ]);
        expect(buttons(element)).toEqual([]);
    });

    test('when Lightning reuses the card for another opportunity, it shows that opportunity’s view, not a late answer for the first', async () => {
        let answerFirst;
        getView.mockReturnValueOnce(new Promise((resolve) => (answerFirst = resolve)));
        getView.mockResolvedValueOnce(JSON.stringify(viewOf(approved(), 'viewer')));
        const { element } = mount();
        await flush();

        element.recordId = '006000000000002AAA';
        await flush();
        answerFirst(JSON.stringify(pendingForApprover()));
        await flush();

        expect(getView.mock.calls).toEqual([[{ opportunityId: OPPORTUNITY_ID }], [{ opportunityId: '006000000000002AAA' }]]);
        expect(badges(element).status).toBe('Approved');
        expect(buttons(element)).toEqual([]);
    });

    test('a pending extension is shown, and Approve extension sends its request id', async () => {
        const reg = approved();
        Object.assign(reg, {
            extension: { id: 'ext-42', days: 30, reason: 'Procurement needs another month.', requestedOn: '2027-02-20' },
            actions: [{ id: 'approve_extension', label: 'Approve 30-day extension', requiresReason: false, extensionRequestId: 'ext-42' }]
        });
        getView.mockResolvedValue(JSON.stringify(viewOf(reg)));
        act.mockResolvedValue(JSON.stringify({ ok: true, action: 'approve_extension', view: viewOf({ ...reg, extension: null, actions: [] }) }));
        const { element, toasts } = mount();
        await flush();

        expect(text($(element, '[data-id="extension"]'))).toBe(
            'Extension requested: 30 more days Requested on 2027-02-20 Procurement needs another month.'
        );
        button(element, 'Approve 30-day extension').click();
        await flush();

        expect(act).toHaveBeenCalledWith({
            opportunityId: OPPORTUNITY_ID,
            registrationId: REGISTRATION_ID,
            action: 'approve_extension',
            reason: null,
            extensionRequestId: 'ext-42'
        });
        expect($(element, '[data-id="extension"]')).toBeNull();
        expect(toasts.map((t) => t.title)).toEqual(['Extension approved']);
    });
});
