// The partner pre-check ("is this account available?"): three words, nothing about who holds it.
import type { Outcome, Verdict } from './types';

export type Availability = 'available' | 'needs_review' | 'blocked';

const BY_OUTCOME: Record<Outcome, Availability> = { approve: 'available', review: 'needs_review', reject: 'blocked' };

export const availabilityFrom = (verdict: Pick<Verdict, 'outcome'>): Availability => BY_OUTCOME[verdict.outcome];
