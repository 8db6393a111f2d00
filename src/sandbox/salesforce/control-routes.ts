// The control API beside the Salesforce paths (no auth): orgs, faults, token expiry, seeding, stages,
// API usage, stats, snapshots. Bodies are JSON; errors are `{ error }` with 400 / 404 / 409.
import { HttpProblem, type Handler, type SandboxRequest, type SandboxResponse } from '../common/http';
import type { SalesforceSandboxImpl, CreateOrgOptions } from './sandbox';
import { RecordError } from './errors';
import { KEY_PREFIX, toId18 } from './ids';
import { FORECAST_CATEGORY, FORECAST_CATEGORY_NAMES } from './schema';
import { insertRecord, requireSObject, undeleteRecord, type Actor } from './dml';
import { apiUsage, setApiUsage } from './api-usage';
import { oldestReplayId } from './change-events';
import type { Org, Row } from './org';
import { truncateToSecond } from './values';

const ok = (body: unknown, status = 200): SandboxResponse => ({ status, body });

function bad(message: string, status = 400, extra: Record<string, unknown> = {}): HttpProblem {
  return new HttpProblem({ status, body: { error: message, ...extra } });
}

function obj(req: SandboxRequest): Record<string, unknown> {
  if (req.body === undefined) return {};
  if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) throw bad('expected a JSON object body');
  return req.body as Record<string, unknown>;
}

function num(v: unknown, name: string, min = 0): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw bad(`${name} must be a number >= ${min}`);
  return v;
}

function uiActor(org: Org, userId: unknown): Actor {
  const id = typeof userId === 'string' ? toId18(userId) : org.data.integrationUserId;
  if (!id || !org.table('User').get(id)) throw bad(`no user ${String(userId)} in org ${org.id}`);
  return { userId: id, changeOrigin: 'com/salesforce/api/soap/66.0;client=SfdcInternalAPI/', system: true };
}

export function controlRoutes(sb: SalesforceSandboxImpl): Array<[string, string, Handler]> {
  return [
    ['POST', '/_sandbox/reset', () => (sb.reset(), ok({ ok: true }))],
    [
      'POST',
      '/_sandbox/orgs',
      (req) => {
        const b = obj(req);
        const opts: CreateOrgOptions = {
          name: typeof b.name === 'string' ? b.name : undefined,
          dailyApiLimit: num(b.dailyApiLimit, 'dailyApiLimit', 1),
          tokenTtlSeconds: num(b.tokenTtlSeconds, 'tokenTtlSeconds', 1),
          withDealregFields: typeof b.withDealregFields === 'boolean' ? b.withDealregFields : undefined,
          clientId: typeof b.clientId === 'string' ? b.clientId : undefined,
          clientSecret: typeof b.clientSecret === 'string' ? b.clientSecret : undefined,
          jwtCertificate: pemOf(b),
          redirectUris: Array.isArray(b.redirectUris) ? b.redirectUris.map(String) : undefined,
          eventRetention: num(b.eventRetention, 'eventRetention', 1),
          eventRetentionHours: num(b.eventRetentionHours, 'eventRetentionHours', 0),
          maxOpenCursors: num(b.maxOpenCursors, 'maxOpenCursors', 1),
          recordTypes: b.recordTypes as CreateOrgOptions['recordTypes'],
          integrationUser: b.integrationUser as CreateOrgOptions['integrationUser'],
        };
        return ok(sb.createOrg(opts), 201);
      },
    ],
    ['GET', '/_sandbox/orgs', () => ok([...sb.orgs.values()].map((o) => summary(sb, o)))],
    ['GET', '/_sandbox/orgs/:orgId', (req) => ok(summary(sb, sb.requireOrg(req.params.orgId)))],
    [
      'PATCH',
      '/_sandbox/orgs/:orgId',
      (req) => {
        const org = sb.requireOrg(req.params.orgId);
        const b = obj(req);
        const s = org.settings;
        s.dailyApiLimit = num(b.dailyApiLimit, 'dailyApiLimit', 1) ?? s.dailyApiLimit;
        s.tokenTtlSeconds = num(b.tokenTtlSeconds, 'tokenTtlSeconds', 1) ?? s.tokenTtlSeconds;
        s.eventRetention = num(b.eventRetention, 'eventRetention', 1) ?? s.eventRetention;
        s.eventRetentionHours = num(b.eventRetentionHours, 'eventRetentionHours', 0) ?? s.eventRetentionHours;
        s.maxOpenCursors = num(b.maxOpenCursors, 'maxOpenCursors', 1) ?? s.maxOpenCursors;
        if (typeof b.withDealregFields === 'boolean') s.withDealregFields = b.withDealregFields;
        const pem = pemOf(b);
        if (pem !== undefined) org.data.app.jwtCertificate = pem;
        if (Array.isArray(b.redirectUris)) org.data.app.redirectUris = b.redirectUris.map(String);
        org.invalidateSchema();
        org.rebuildIndexes();
        return ok(summary(sb, org));
      },
    ],
    ['DELETE', '/_sandbox/orgs/:orgId', (req) => (sb.deleteOrg(sb.requireOrg(req.params.orgId).id), ok({ ok: true }))],
    ['GET', '/_sandbox/orgs/:orgId/stats', (req) => ok(stats(sb, sb.requireOrg(req.params.orgId)))],
    [
      'POST',
      '/_sandbox/orgs/:orgId/tokens',
      (req) => {
        const org = sb.requireOrg(req.params.orgId);
        const b = obj(req);
        let userId = org.data.integrationUserId;
        if (typeof b.userId === 'string') userId = toId18(b.userId) ?? '';
        else if (typeof b.username === 'string') userId = org.findByUnique('User', 'Username', b.username)?.Id ?? '';
        if (!org.table('User').get(userId)) throw bad('no such user in this org', 404);
        const refresh = sb.tokens.issueRefresh(org, userId, org.data.app.clientId);
        const access = sb.tokens.issueAccess(org, userId, org.data.app.clientId, refresh.token);
        return ok({ accessToken: access.token, refreshToken: refresh.token, userId, instanceUrl: sb.baseUrl }, 201);
      },
    ],
    [
      'POST',
      '/_sandbox/orgs/:orgId/api-usage',
      (req) => {
        const org = sb.requireOrg(req.params.orgId);
        const used = num(obj(req).used, 'used', 0);
        if (used === undefined) throw bad('used is required');
        setApiUsage(org, sb.now(), used);
        return ok({ used: apiUsage(org, sb.now()), max: org.settings.dailyApiLimit });
      },
    ],
    ['POST', '/_sandbox/orgs/:orgId/seed', (req) => ok(seed(sb, sb.requireOrg(req.params.orgId), obj(req)), 201)],
    ['POST', '/_sandbox/orgs/:orgId/stages', (req) => ok(stages(sb, sb.requireOrg(req.params.orgId), obj(req)))],
    [
      'POST',
      '/_sandbox/orgs/:orgId/undelete',
      (req) => {
        const org = sb.requireOrg(req.params.orgId);
        const b = obj(req);
        const def = org.sobject(String(b.sobject ?? ''));
        if (!def) throw bad('sobject must be Account, Opportunity or Partner');
        if (!Array.isArray(b.ids)) throw bad('ids must be an array');
        const actor = uiActor(org, b.userId);
        const ids = sb.transaction(org, actor, (tx) => (b.ids as unknown[]).map((id) => undeleteRecord(tx, def, String(id))));
        return ok({ ids });
      },
    ],
    [
      'POST',
      '/_sandbox/faults',
      (req) => {
        const b = obj(req);
        const org = sb.requireOrg(b.orgId ?? b.portalId);
        const count = num(b.count, 'count', 1) ?? 1;
        const status = num(b.status, 'status', 100);
        const latencyMs = num(b.latencyMs, 'latencyMs', 0);
        if (status === undefined && latencyMs === undefined) throw bad('give status, latencyMs or both');
        const target = b.target ?? 'api';
        if (target !== 'api' && target !== 'feed' && target !== 'token') throw bad("target must be 'api', 'feed' or 'token'");
        sb.faults.add(target === 'api' ? org.id : `${org.id}|${target}`, { status, count, latencyMs });
        return ok({ ok: true });
      },
    ],
    [
      'DELETE',
      '/_sandbox/faults',
      (req) => {
        const b = obj(req);
        if (b.orgId === undefined) sb.faults.clear();
        else for (const suffix of ['', '|feed', '|token']) sb.faults.clear(sb.requireOrg(b.orgId).id + suffix);
        return ok({ ok: true });
      },
    ],
    [
      'POST',
      '/_sandbox/record-faults',
      (req) => {
        const b = obj(req);
        const org = sb.requireOrg(b.orgId);
        if (typeof b.errorCode !== 'string' || b.errorCode === '') throw bad('errorCode is required, e.g. UNABLE_TO_LOCK_ROW');
        sb.addRecordFault(org.id, {
          errorCode: b.errorCode,
          message: typeof b.message === 'string' ? b.message : '',
          count: num(b.count, 'count', 1) ?? 1,
          sobject: typeof b.sobject === 'string' ? b.sobject : null,
        });
        return ok({ ok: true });
      },
    ],
    [
      'POST',
      '/_sandbox/expire-tokens',
      (req) => {
        const org = sb.requireOrg(obj(req).orgId);
        return ok({ expired: sb.tokens.expireOrg(org.id) });
      },
    ],
    ['GET', '/_sandbox/snapshot', () => ok(sb.snapshot())],
    ['POST', '/_sandbox/snapshot', (req) => (sb.restore(obj(req)), ok({ ok: true, orgs: sb.orgs.size }))],
  ];
}

function pemOf(b: Record<string, unknown>): string | undefined {
  const v = b.jwtCertificate ?? b.certificate ?? b.publicKey ?? b.jwtPublicKey;
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !v.includes('-----BEGIN')) throw bad('jwtCertificate must be a PEM certificate or public key');
  return v;
}

function summary(sb: SalesforceSandboxImpl, org: Org): Record<string, unknown> {
  const u = org.table('User').get(org.data.integrationUserId);
  return {
    orgId: org.id,
    name: org.data.name,
    instanceUrl: sb.baseUrl,
    clientId: org.data.app.clientId,
    integrationUserId: org.data.integrationUserId,
    username: u?.Username,
    settings: org.settings,
    jwtCertificate: org.data.app.jwtCertificate !== null,
    redirectUris: org.data.app.redirectUris,
  };
}

function stats(sb: SalesforceSandboxImpl, org: Org): Record<string, unknown> {
  const records: Record<string, number> = {};
  for (const [name, t] of org.tables) {
    let n = 0;
    for (const r of t.values()) if (!r.IsDeleted) n++;
    records[name] = n;
  }
  return {
    orgId: org.id,
    apiUsage: { used: apiUsage(org, sb.now()), max: org.settings.dailyApiLimit },
    apiRequests: org.data.stats.apiRequests,
    limitExceeded: org.data.stats.limitExceeded,
    faultsServed: org.data.stats.faultsServed,
    byStatus: org.data.stats.byStatus,
    records,
    events: { oldestReplayId: oldestReplayId(org), latestReplayId: org.events.nextReplayId - 1, retained: org.events.log.length },
  };
}

const SEED_KINDS: Array<[key: string, sobject: string]> = [
  ['users', 'User'],
  ['accounts', 'Account'],
  ['opportunities', 'Opportunity'],
  ['partners', 'Partner'],
];

/**
 * Inserts users, accounts, opportunities and partners in one transaction, without spending API
 * requests and (unless `emitEvents`) without change events. Read-only fields such as UserType,
 * CreatedDate or SystemModstamp may be set. A record names itself with `_ref` and others point at it
 * with `{ "$ref": "name" }`.
 */
function seed(sb: SalesforceSandboxImpl, org: Org, b: Record<string, unknown>): Record<string, unknown> {
  const actor = uiActor(org, b.asUserId);
  const refs: Record<string, string> = {};
  const resolveRefs = (rec: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rec)) {
      if (k === '_ref') continue;
      if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { $ref?: unknown }).$ref === 'string') {
        const name = (v as { $ref: string }).$ref;
        if (!(name in refs)) throw bad(`unknown $ref ${name} (refs must be defined earlier: users, accounts, opportunities, partners)`);
        out[k] = refs[name];
      } else out[k] = v;
    }
    return out;
  };
  const result: Record<string, unknown> = {};
  let n = 0;
  sb.transaction(
      org,
      actor,
      (tx) => {
        for (const [key, sobject] of SEED_KINDS) {
          const list = b[key];
          if (list === undefined) continue;
          if (!Array.isArray(list)) throw bad(`${key} must be an array`);
          const def = requireSObject(org, sobject);
          const ids: string[] = [];
          list.forEach((raw, index) => {
            if (!raw || typeof raw !== 'object') throw bad(`${key}[${index}] must be an object`);
            let rec = resolveRefs(raw as Record<string, unknown>);
            if (sobject === 'User') rec = userDefaults(rec, org, ++n);
            try {
              const id = insertRecord(tx, def, rec);
              ids.push(id);
              const ref = (raw as Record<string, unknown>)._ref;
              if (typeof ref === 'string') refs[ref] = id;
            } catch (e) {
              if (e instanceof RecordError) throw bad(`${key}[${index}]: ${e.statusCode}: ${e.message}`, 400, { kind: key, index, errorCode: e.statusCode, fields: e.fields });
              if (e instanceof HttpProblem) throw bad(`${key}[${index}]: ${JSON.stringify(e.response.body)}`, 400, { kind: key, index });
              throw e;
            }
          });
          result[key] = ids;
        }
      },
    b.emitEvents === true,
  );
  return { ...result, refs };
}

function userDefaults(rec: Record<string, unknown>, org: Org, n: number): Record<string, unknown> {
  const username = (rec.Username as string | undefined) ?? `user${n}.${org.id.slice(-6).toLowerCase()}@dealreg-sandbox.test`;
  const last = (rec.LastName as string | undefined) ?? 'User';
  return {
    Alias: last.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 8) || 'user',
    Email: username,
    TimeZoneSidKey: 'GMT',
    LocaleSidKey: 'en_US',
    EmailEncodingKey: 'UTF-8',
    LanguageLocaleKey: 'en_US',
    ProfileId: '00e8d000000Sbx1AAC',
    ...rec,
    Username: username,
    LastName: last,
  };
}

/** Adds or changes OpportunityStage rows (by ApiName); `replace: true` deactivates the others. */
function stages(sb: SalesforceSandboxImpl, org: Org, b: Record<string, unknown>): Record<string, unknown> {
  if (!Array.isArray(b.stages)) throw bad('stages must be an array');
  const table = org.table('OpportunityStage');
  const now = truncateToSecond(sb.now());
  const byName = new Map<string, Row>();
  for (const r of table.values()) byName.set(String(r.ApiName), r);
  const touched = new Set<string>();
  let sort = Math.max(0, ...[...table.values()].map((r) => Number(r.SortOrder ?? 0)));
  for (const raw of b.stages as Array<Record<string, unknown>>) {
    const apiName = String(raw.apiName ?? raw.ApiName ?? raw.label ?? '');
    if (!apiName) throw bad('each stage needs an apiName');
    const existing = byName.get(apiName);
    const isClosed = raw.isClosed === true;
    const isWon = raw.isWon === true;
    const forecast = typeof raw.forecastCategoryName === 'string' ? raw.forecastCategoryName : isWon ? 'Closed' : isClosed ? 'Omitted' : 'Pipeline';
    if (!FORECAST_CATEGORY_NAMES.includes(forecast)) throw bad(`forecastCategoryName must be one of ${FORECAST_CATEGORY_NAMES.join(', ')}`);
    const row: Row = {
      ...(existing ?? {
        Id: sb.env.nextId(KEY_PREFIX.OpportunityStage),
        IsDeleted: false,
        CreatedDate: now,
        CreatedById: org.data.integrationUserId,
        SortOrder: ++sort,
      }),
      MasterLabel: String(raw.label ?? existing?.MasterLabel ?? apiName),
      ApiName: apiName,
      IsActive: raw.isActive !== false,
      IsClosed: isClosed,
      IsWon: isWon,
      ForecastCategoryName: forecast,
      ForecastCategory: FORECAST_CATEGORY[forecast],
      DefaultProbability: typeof raw.probability === 'number' ? raw.probability : isWon ? 100 : 0,
      Description: null,
      LastModifiedDate: now,
      LastModifiedById: org.data.integrationUserId,
      SystemModstamp: now,
    };
    if (typeof raw.sortOrder === 'number') row.SortOrder = raw.sortOrder;
    table.set(row.Id, row);
    touched.add(apiName);
  }
  if (b.replace === true) {
    for (const r of table.values()) if (!touched.has(String(r.ApiName))) table.set(r.Id, { ...r, IsActive: false, SystemModstamp: now });
  }
  org.invalidateSchema();
  return { stages: [...table.values()].map((r) => ({ id: r.Id, apiName: r.ApiName, isActive: r.IsActive, isClosed: r.IsClosed, isWon: r.IsWon, sortOrder: r.SortOrder })) };
}
