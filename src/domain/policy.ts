// The rules-of-engagement policy is data: zod-validated JSON, versioned per workspace.
import { z } from 'zod';
import { PARTNER_TIERS } from './types';

const outcome = z.enum(['approve', 'review', 'reject']);
const countryCode = z.string().regex(/^[A-Z]{2}$/, 'use an ISO 3166-1 alpha-2 country code, e.g. "DE"');

/** Who gets credit by default (src/domain/attribution.ts): the sourcing partner's share, and who shares the rest. */
export const attributionPolicySchema = z
  .object({
    /** The sourcing partner's percent (at most 2 decimals); the rest goes to influencers, when there are any. */
    sourcingPercent: z
      .number()
      .min(50)
      .max(100)
      .refine((n) => Math.abs(n * 100 - Math.round(n * 100)) < 1e-6, 'use at most 2 decimals, e.g. 70 or 66.67')
      .default(100),
    /** "other_registrations": other partners' registrations of the same company domain within the window before this one share the rest. */
    influencers: z.enum(['none', 'other_registrations']).default('none'),
    influenceWindowDays: z.number().int().min(1).max(730).default(90),
  })
  .strict();

export const DEFAULT_ATTRIBUTION_POLICY = { sourcingPercent: 100, influencers: 'none', influenceWindowDays: 90 } as const;

export const policySchema = z
  .object({
    /** When no reason fires: approve automatically, or send to a partner manager. */
    autoApprove: z.boolean().default(true),
    /** How each finding decides. DUPLICATE_REGISTRATION, INVALID_DOMAIN, FREE_EMAIL_DOMAIN, PARTNER_INACTIVE always reject. */
    outcomes: z
      .object({
        OPEN_OPPORTUNITY: outcome.default('review'),
        DIRECT_OWNED_ACCOUNT: outcome.default('reject'),
        RESERVED_ACCOUNT: outcome.default('reject'),
        EXISTING_CUSTOMER: outcome.default('review'),
        SIMILAR_COMPANY_NAME: outcome.default('review'),
        PARTNER_CAP_REACHED: outcome.default('reject'),
      })
      .strict()
      .default({
        OPEN_OPPORTUNITY: 'review',
        DIRECT_OWNED_ACCOUNT: 'reject',
        RESERVED_ACCOUNT: 'reject',
        EXISTING_CUSTOMER: 'review',
        SIMILAR_COMPANY_NAME: 'review',
        PARTNER_CAP_REACHED: 'reject',
      }),
    protection: z
      .object({
        defaultDays: z.number().int().min(1).max(730).default(90),
        maxDays: z.number().int().min(1).max(730).default(180),
        /** Days added by one approved extension. */
        extensionDays: z.number().int().min(1).max(365).default(30),
        maxExtensions: z.number().int().min(0).max(12).default(2),
        /** An extension may be requested only within this many days before the end. */
        extensionWindowDays: z.number().int().min(1).max(365).default(30),
        autoApproveExtensions: z.boolean().default(false),
        /** Reminder events this many days before the end (each sent once). */
        reminderDays: z.array(z.number().int().min(1).max(365)).max(5).default([14, 3]),
      })
      .strict()
      .default({
        defaultDays: 90,
        maxDays: 180,
        extensionDays: 30,
        maxExtensions: 2,
        extensionWindowDays: 30,
        autoApproveExtensions: false,
        reminderDays: [14, 3],
      }),
    /** Max registrations pending_review or approved per partner, by tier (null: no cap). */
    partnerCaps: z
      .object(Object.fromEntries(PARTNER_TIERS.map((t) => [t, z.number().int().min(1).nullable()])) as Record<
        (typeof PARTNER_TIERS)[number],
        z.ZodNullable<z.ZodNumber>
      >)
      .strict()
      .default({ registered: 25, silver: 100, gold: null }),
    reserved: z
      .object({
        /** Registrable domains kept for direct sales (named accounts). */
        domains: z.array(z.object({ domain: z.string().min(3).max(253), note: z.string().max(200).optional() }).strict()).max(10_000).default([]),
        /** Territories kept for direct sales: a registration whose company (or matched account) is in one is blocked. */
        territories: z.array(z.object({ country: countryCode, note: z.string().max(200).optional() }).strict()).max(250).default([]),
      })
      .strict()
      .default({ domains: [], territories: [] }),
    /** Extra free-mail / consumer domains beyond the built-in list (free-email-domains-list). */
    freeEmailDomains: z.array(z.string().min(3).max(253)).max(1000).default([]),
    /** Domains the built-in free-mail list names that are real companies for you (e.g. "facebook.com"). */
    notFreeEmailDomains: z.array(z.string().min(3).max(253)).max(1000).default([]),
    /** Company-name similarity (0..1) at or above which SIMILAR_COMPANY_NAME fires. */
    similarNameThreshold: z.number().min(0.5).max(1).default(0.85),
    attribution: attributionPolicySchema.default({ ...DEFAULT_ATTRIBUTION_POLICY }),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.protection.defaultDays > p.protection.maxDays) {
      ctx.addIssue({ code: 'custom', path: ['protection', 'defaultDays'], message: 'defaultDays must not exceed maxDays' });
    }
  });

export type Policy = z.output<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;
export type AttributionPolicy = z.output<typeof attributionPolicySchema>;

export const defaultPolicy = (): Policy => policySchema.parse({});
