// Policy dry run: replay a proposed policy over past registrations' stored evidence (with now = the time
// each was decided) and report which verdicts would change.
//
// A verdict changes when its outcome changes or its set of reason codes changes. `transitions` counts the
// changed verdicts by "from→to" outcome, so its counts add up to `changed`; "review→review" means the
// outcome stays but the reasons differ.
import type { Policy } from './policy';
import { evaluate } from './rules/evaluate';
import type { Evidence, Outcome, ReasonCode, RegistrationCandidate, Verdict } from './types';

export interface DryRunItem {
  registrationId: string;
  candidate: RegistrationCandidate;
  evidence: Evidence;
  previous: Pick<Verdict, 'outcome' | 'reasons'>;
  decidedAt: Date;
}

export interface DryRunChange {
  registrationId: string;
  from: Outcome;
  to: Outcome;
  added: ReasonCode[];
  removed: ReasonCode[];
}

export interface DryRunReport {
  total: number;
  changed: number;
  transitions: Record<string, number>;
  changes: DryRunChange[];
}

const codes = (v: Pick<Verdict, 'reasons'>): Set<ReasonCode> => new Set(v.reasons.map((r) => r.code));
const minus = (a: Set<ReasonCode>, b: Set<ReasonCode>): ReasonCode[] => [...a].filter((c) => !b.has(c)).sort();

export const dryRun = (items: readonly DryRunItem[], policy: Policy, policyVersion: number): DryRunReport => {
  const transitions: Record<string, number> = {};
  const changes: DryRunChange[] = [];
  for (const item of items) {
    const next = evaluate({ candidate: item.candidate, evidence: item.evidence, policy, policyVersion, now: item.decidedAt });
    const before = codes(item.previous);
    const after = codes(next);
    const added = minus(after, before);
    const removed = minus(before, after);
    if (next.outcome === item.previous.outcome && added.length === 0 && removed.length === 0) continue;
    const key = `${item.previous.outcome}→${next.outcome}`;
    transitions[key] = (transitions[key] ?? 0) + 1;
    changes.push({ registrationId: item.registrationId, from: item.previous.outcome, to: next.outcome, added, removed });
  }
  return { total: items.length, changed: changes.length, transitions, changes };
};
