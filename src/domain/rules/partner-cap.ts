// PARTNER_CAP_REACHED: the partner already holds as many active registrations as its tier allows.
import type { Rule } from './rule';

export const partnerCap: Rule = ({ evidence: { partner }, policy }) => {
  const cap = policy.partnerCaps[partner.tier];
  if (cap === null || partner.activeRegistrations < cap) return [];
  return [
    {
      code: 'PARTNER_CAP_REACHED',
      outcome: policy.outcomes.PARTNER_CAP_REACHED,
      message: `You have reached your limit of ${cap} open registrations: one must be closed or withdrawn before you register another.`,
      evidence: { partner: { id: partner.id, activeRegistrations: partner.activeRegistrations, cap } },
    },
  ];
};
