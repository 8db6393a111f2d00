// PARTNER_INACTIVE: an inactive partner cannot register. Always reject.
import type { Rule } from './rule';

export const partnerInactive: Rule = ({ evidence: { partner } }) =>
  partner.status === 'active'
    ? []
    : [
        {
          code: 'PARTNER_INACTIVE',
          outcome: 'reject',
          message: 'Your partner account is not active, so it cannot register deals: contact your partner manager.',
          evidence: { partner: { id: partner.id, status: partner.status } },
        },
      ];
