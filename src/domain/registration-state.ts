// Registration states (DESIGN.md, "Registration states"):
//   new ──approve──► approved,  new ──review──► pending_review,  new ──reject──► rejected
//   pending_review → approved | rejected | withdrawn
//   approved       → won | lost | expired | withdrawn
// rejected, won, lost, expired and withdrawn are terminal: they never reopen.
import { DomainError } from './errors';
import type { Outcome, RegistrationStatus } from './types';

const TRANSITIONS: Readonly<Record<RegistrationStatus, readonly RegistrationStatus[]>> = {
  pending_review: ['approved', 'rejected', 'withdrawn'],
  approved: ['won', 'lost', 'expired', 'withdrawn'],
  rejected: [],
  won: [],
  lost: [],
  expired: [],
  withdrawn: [],
};

/** The status a new registration is created in, from its verdict: auto-decisions skip pending_review. */
export const initialStatus = (outcome: Outcome): 'approved' | 'pending_review' | 'rejected' => {
  switch (outcome) {
    case 'approve':
      return 'approved';
    case 'review':
      return 'pending_review';
    case 'reject':
      return 'rejected';
  }
};

export const allowedTransitions = (from: RegistrationStatus): readonly RegistrationStatus[] => TRANSITIONS[from];

export const canTransition = (from: RegistrationStatus, to: RegistrationStatus): boolean => TRANSITIONS[from].includes(to);

export const isTerminal = (status: RegistrationStatus): boolean => TRANSITIONS[status].length === 0;

/** Holds the account against later registrations (first to register wins, also while pending review). */
export const isActive = (status: RegistrationStatus): status is 'pending_review' | 'approved' =>
  status === 'pending_review' || status === 'approved';

const listed = (states: readonly string[]): string =>
  states.length <= 1 ? states.join('') : `${states.slice(0, -1).join(', ')} or ${states[states.length - 1]}`;

/** Throws DomainError INVALID_TRANSITION (an HTTP 409) when `from → to` is not allowed. */
export const assertTransition = (from: RegistrationStatus, to: RegistrationStatus): void => {
  if (canTransition(from, to)) return;
  const allowed = allowedTransitions(from);
  const message =
    allowed.length === 0
      ? `A registration that is ${from} cannot become ${to}: ${from} is final.`
      : `A registration that is ${from} cannot become ${to}: from ${from} it can only become ${listed(allowed)}.`;
  throw new DomainError('INVALID_TRANSITION', message, { from, to, allowed: [...allowed] });
};
