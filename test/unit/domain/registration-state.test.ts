import { DomainError } from '../../../src/domain/errors';
import {
  allowedTransitions,
  assertTransition,
  canTransition,
  initialStatus,
  isActive,
  isTerminal,
} from '../../../src/domain/registration-state';
import { REGISTRATION_STATUSES, type RegistrationStatus } from '../../../src/domain/types';

const LEGAL: [RegistrationStatus, RegistrationStatus][] = [
  ['pending_review', 'approved'],
  ['pending_review', 'rejected'],
  ['pending_review', 'withdrawn'],
  ['approved', 'won'],
  ['approved', 'lost'],
  ['approved', 'expired'],
  ['approved', 'withdrawn'],
];
const isLegal = (from: RegistrationStatus, to: RegistrationStatus) => LEGAL.some(([f, t]) => f === from && t === to);
const ILLEGAL = REGISTRATION_STATUSES.flatMap((from) => REGISTRATION_STATUSES.filter((to) => !isLegal(from, to)).map((to) => [from, to] as const));

describe('registration states', () => {
  it.each([
    ['approve', 'approved'],
    ['review', 'pending_review'],
    ['reject', 'rejected'],
  ] as const)('a new registration with verdict %s starts %s', (outcome, status) => {
    expect(initialStatus(outcome)).toBe(status);
  });

  it.each(LEGAL)('allows %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(() => assertTransition(from, to)).not.toThrow();
  });

  it('checks all 49 pairs: 7 legal, 42 illegal', () => {
    expect(ILLEGAL).toHaveLength(42);
  });

  it.each(ILLEGAL)('refuses %s → %s with INVALID_TRANSITION', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    let error: unknown;
    try {
      assertTransition(from, to);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    const domainError = error as DomainError;
    expect(domainError.code).toBe('INVALID_TRANSITION');
    expect(domainError.message).toContain(from);
    expect(domainError.message).toContain(to);
    expect(domainError.details).toEqual({ from, to, allowed: [...allowedTransitions(from)] });
  });

  it('names what is allowed from the current state', () => {
    expect(() => assertTransition('approved', 'rejected')).toThrow(
      'A registration that is approved cannot become rejected: from approved it can only become won, lost, expired or withdrawn.',
    );
  });

  it('says a terminal state is final', () => {
    expect(() => assertTransition('won', 'approved')).toThrow('A registration that is won cannot become approved: won is final.');
  });

  it.each(['rejected', 'won', 'lost', 'expired', 'withdrawn'] as const)('%s is terminal and never reopens', (status) => {
    expect(isTerminal(status)).toBe(true);
    expect(allowedTransitions(status)).toEqual([]);
    expect(isActive(status)).toBe(false);
  });

  it.each(['pending_review', 'approved'] as const)('%s is active: it holds the account', (status) => {
    expect(isActive(status)).toBe(true);
    expect(isTerminal(status)).toBe(false);
  });
});
