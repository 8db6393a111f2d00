// What a partner may see of a verdict (DESIGN.md: `verdict: { outcome, reasons: [{ code, message }],
// policyVersion }`): no evidence, and each distinct message once (two CRM accounts owned by direct sales
// are two reasons for staff, one line for the partner).
import type { Outcome, ReasonCode, Verdict } from './types';

export interface PartnerVerdict {
  outcome: Outcome;
  reasons: { code: ReasonCode; message: string }[];
  policyVersion: number;
}

export const partnerVerdict = (verdict: Verdict): PartnerVerdict => {
  const seen = new Set<string>();
  const reasons: PartnerVerdict['reasons'] = [];
  for (const { code, message } of verdict.reasons) {
    const key = `${code}\n${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    reasons.push({ code, message });
  }
  return { outcome: verdict.outcome, reasons, policyVersion: verdict.policyVersion };
};
