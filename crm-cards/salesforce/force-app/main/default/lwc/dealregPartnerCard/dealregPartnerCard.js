// The dealreg partner attribution card on the Opportunity record page. It renders the CardView that dealreg
// sends (src/domain/card-view-model.ts in dealreg) through DealregCardController, and computes nothing:
// labels, tones, counts and the actions this user may take all come from dealreg. The only mapping here is
// from dealreg's tones to SLDS classes and from action ids to button variants.
import { LightningElement, api } from 'lwc';
import { ShowToastEvent } from 'lightning/platformShowToastEvent';
import { notifyRecordUpdateAvailable } from 'lightning/uiRecordApi';
import getView from '@salesforce/apex/DealregCardController.getView';
import act from '@salesforce/apex/DealregCardController.act';

const BADGE_CLASS = {
    success: 'slds-theme_success',
    warning: 'slds-theme_warning',
    danger: 'slds-theme_error',
    info: 'slds-theme_info',
    neutral: ''
};
const TEXT_CLASS = {
    success: 'slds-text-color_success',
    warning: 'dealreg-tone_warning',
    danger: 'slds-text-color_error',
    info: 'dealreg-tone_info',
    neutral: 'slds-text-color_weak'
};
const BUTTON_VARIANT = { approve: 'brand', reject: 'destructive', approve_extension: 'neutral' };
const DONE = {
    approve: 'Registration approved',
    reject: 'Registration rejected',
    approve_extension: 'Extension approved'
};

const badgeClass = (tone) => BADGE_CLASS[tone] ?? '';
const textClass = (tone) => TEXT_CLASS[tone] ?? '';

/** What went wrong, in words: Apex's AuraHandledException message, or the error's own. */
function messageOf(error) {
    if (error?.body?.message) return error.body.message;
    if (Array.isArray(error?.body) && error.body[0]?.message) return error.body[0].message;
    if (error?.message) return error.message;
    return 'Something went wrong loading the partner card.';
}

/** The CardView in dealreg's answer; anything else is an error the card shows rather than half-renders. */
function checkView(view) {
    if (view?.kind !== 'registration' && view?.kind !== 'empty') {
        throw new Error('dealreg sent a view this card cannot show.');
    }
    return view;
}

export default class DealregPartnerCard extends LightningElement {
    /** The opportunity; Lightning may reuse the card for the next record, so a new id loads its view. */
    @api
    get recordId() {
        return this._recordId;
    }
    set recordId(value) {
        const changed = value !== this._recordId;
        this._recordId = value;
        if (changed && this.connected) this.load();
    }
    _recordId;
    connected = false;
    /** Which load is current: an answer for a record the card no longer shows is dropped. */
    loadSeq = 0;

    /** 'loading' | 'ready' | 'error' */
    state = 'loading';
    view;
    errorMessage;
    /** An action is on its way to dealreg: the buttons wait. */
    busy = false;
    /** The action (reject) waiting for its reason, when the reason section is open. */
    pendingAction = null;
    reason = '';
    reasonError = null;

    connectedCallback() {
        this.connected = true;
        this.load();
    }

    disconnectedCallback() {
        this.connected = false;
    }

    async load() {
        const seq = ++this.loadSeq;
        this.state = 'loading';
        this.errorMessage = undefined;
        this.pendingAction = null;
        try {
            const view = checkView(JSON.parse(await getView({ opportunityId: this.recordId })));
            if (seq !== this.loadSeq) return;
            this.view = view;
            this.state = 'ready';
        } catch (error) {
            if (seq !== this.loadSeq) return;
            this.errorMessage = messageOf(error);
            this.state = 'error';
        }
    }

    // --- states

    get isLoading() {
        return this.state === 'loading';
    }
    get isError() {
        return this.state === 'error';
    }
    get isEmpty() {
        return this.state === 'ready' && this.view.kind === 'empty';
    }
    get registration() {
        return this.state === 'ready' && this.view.kind === 'registration' ? this.view.registration : null;
    }

    // --- the registration, as dealreg worded it

    get statusBadgeClass() {
        return badgeClass(this.registration.statusTone);
    }
    get protectionClass() {
        return `slds-m-top_x-small ${textClass(this.registration.protection.tone)}`;
    }
    get reasons() {
        return this.registration.reasons.map((r, i) => ({ ...r, key: `${i}-${r.code}`, className: `slds-m-bottom_x-small ${textClass(r.tone)}` }));
    }
    get hasReasons() {
        return this.registration.reasons.length > 0;
    }
    get attribution() {
        return this.registration.attribution;
    }
    get splitRows() {
        return this.attribution.partners.map((p, i) => ({ ...p, key: `${i}-${p.partnerId}`, percentLabel: `${p.percent}%` }));
    }
    get hasSplit() {
        return this.attribution.partners.length > 0;
    }
    get contact() {
        const c = this.registration.partner.contact;
        return c && (c.name || c.email) ? { ...c, mailto: c.email ? `mailto:${c.email}` : null } : null;
    }
    get extension() {
        return this.registration.extension;
    }
    get actions() {
        return this.registration.actions.map((a) => ({
            ...a,
            variant: BUTTON_VARIANT[a.id] ?? 'neutral',
            disabled: this.busy || this.pendingAction !== null
        }));
    }
    get hasActions() {
        return this.registration.actions.length > 0;
    }
    get actionsNote() {
        return this.registration.actionsNote;
    }
    get reasonLabel() {
        return `Reason (${this.pendingAction.label.toLowerCase()})`;
    }

    // --- events

    handleRetry() {
        this.load();
    }

    handleAction(event) {
        const action = this.registration.actions.find((a) => a.id === event.currentTarget.dataset.action);
        if (!action || this.busy) return;
        if (action.requiresReason) {
            this.pendingAction = action;
            this.reason = '';
            this.reasonError = null;
            return;
        }
        this.run(action, null);
    }

    handleReasonChange(event) {
        this.reason = event.detail?.value ?? event.target.value ?? '';
        this.reasonError = null;
    }

    handleConfirm() {
        const reason = this.reason.trim();
        if (!reason) {
            this.reasonError = 'Give a reason: the partner sees it.';
            return;
        }
        this.run(this.pendingAction, reason);
    }

    handleCancel() {
        this.pendingAction = null;
        this.reason = '';
        this.reasonError = null;
    }

    async run(action, reason) {
        if (this.busy) return;
        this.busy = true;
        try {
            const result = JSON.parse(
                await act({
                    opportunityId: this.recordId,
                    registrationId: this.registration.id,
                    action: action.id,
                    reason,
                    extensionRequestId: action.extensionRequestId ?? null
                })
            );
            const view = checkView(result?.view);
            this.view = view;
            this.pendingAction = null;
            this.reason = '';
            this.dispatchEvent(
                new ShowToastEvent({
                    title: DONE[action.id] ?? action.label,
                    message: view.kind === 'registration' ? `${view.registration.company}: ${view.registration.statusLabel}` : view.title,
                    variant: 'success'
                })
            );
        } catch (error) {
            this.dispatchEvent(new ShowToastEvent({ title: `${action.label} failed`, message: messageOf(error), variant: 'error', mode: 'sticky' }));
            return;
        } finally {
            this.busy = false;
        }
        // The opportunity's dealreg fields change when dealreg syncs; tell Lightning Data Service to refetch.
        try {
            await notifyRecordUpdateAvailable([{ recordId: this.recordId }]);
        } catch {
            // The card already shows the new view; a page reload catches the record up.
        }
    }
}
