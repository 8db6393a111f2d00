// The Salesforce sandbox: state (orgs, tokens, counters), the request pipeline (auth → injected faults
// → daily API allowance → route → Sforce-Limit-Info) and the org lifecycle used by the control API.
import type http from 'node:http';
import { close as closeServer, createSandboxServer, HttpProblem, listen as listenServer, Router, type Handler, type SandboxRequest, type SandboxResponse } from '../common/http';
import { FaultQueue, sleep } from '../common/faults';
import type { ApiHandler, ApiRequest, SandboxCore } from './core';
import { Transaction, type Actor, type DmlEnv } from './dml';
import { invalidSession, sfProblem, sfResponse } from './errors';
import { KEY_PREFIX, makeId, toId18 } from './ids';
import { Org, TABLES, type OrgData, type Row } from './org';
import { TokenStore, type AuthHost, type TokenStoreData } from './oauth';
import { DEFAULT_STAGES, FORECAST_CATEGORY, type RecordTypeInfo } from './schema';
import { knownChannel, publishChanges, readChanges, type ReadResult } from './change-events';
import { apiUsage, countApiRequest } from './api-usage';
import { sobjectRoutes } from './sobject-routes';
import { collectionRoutes } from './collection-routes';
import { CursorStore, queryRoutes } from './query-routes';
import { controlRoutes } from './control-routes';
import { identityBody, userInfoBody } from './identity';
import { truncateToSecond } from './values';

export interface SalesforceSandboxOptions {
  /** Clock in epoch ms (tests pin it). */
  now?: () => number;
  /** Enforce the daily API allowance (403 REQUEST_LIMIT_EXCEEDED). Usage is counted either way. */
  limitsEnabled?: boolean;
}

export interface CreateOrgOptions {
  name?: string;
  dailyApiLimit?: number;
  tokenTtlSeconds?: number;
  withDealregFields?: boolean;
  clientId?: string;
  clientSecret?: string;
  /** PEM certificate or public key of the connected app, for the JWT bearer flow. */
  jwtCertificate?: string;
  redirectUris?: string[];
  eventRetention?: number;
  eventRetentionHours?: number;
  maxOpenCursors?: number;
  recordTypes?: Record<string, Array<{ developerName: string; name?: string; isDefault?: boolean }>>;
  integrationUser?: { username?: string; email?: string; firstName?: string; lastName?: string };
}

export interface CreatedOrg {
  orgId: string;
  instanceUrl: string;
  loginUrl: string;
  clientId: string;
  clientSecret: string;
  accessToken: string;
  refreshToken: string;
  integrationUserId: string;
  username: string;
}

export interface SalesforceSandbox {
  readonly server: http.Server;
  /** `http://127.0.0.1:<port>` once listening. */
  readonly baseUrl: string;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
  reset(): void;
  snapshot(): object;
  restore(snapshot: object): void;
  /** The same as `POST /_sandbox/orgs`. */
  createOrg(options?: CreateOrgOptions): CreatedOrg;
}

interface RecordFaultSpec {
  errorCode: string;
  message: string;
  count: number;
  sobject: string | null;
}

const SNAPSHOT_FORMAT = 'dealreg-salesforce-sandbox';
const DEFAULT_PROFILE_ID = '00e8d000000Sbx1AAC';

export class SalesforceSandboxImpl implements SalesforceSandbox, SandboxCore, AuthHost {
  readonly server: http.Server;
  readonly orgs = new Map<string, Org>();
  readonly tokens: TokenStore;
  readonly faults = new FaultQueue();
  readonly recordFaults = new Map<string, RecordFaultSpec[]>();
  readonly cursors = new CursorStore();
  readonly env: DmlEnv;
  private readonly clock: () => number;
  private readonly limitsEnabled: boolean;
  private readonly apiRouter = new Router();
  private readonly controlRouter = new Router();
  private readonly waiters = new Map<string, Set<() => void>>();
  /** `Sforce-Call-Options` header → changeOrigin, per API version. */
  private readonly originCache = new Map<string, string>();
  private seq = 0;
  private commitNumber = 0;
  private orgCount = 0;
  private port = 4020;
  private host = '127.0.0.1';

  constructor(options: { now?: () => number; limitsEnabled?: boolean } = {}) {
    this.clock = options.now ?? Date.now;
    this.limitsEnabled = options.limitsEnabled ?? true;
    this.tokens = new TokenStore(this);
    this.env = {
      nextId: (prefix) => makeId(prefix, ++this.seq),
      usernameTaken: (username, except) => {
        for (const org of this.orgs.values()) {
          const u = org.findByUnique('User', 'Username', username);
          if (u && u.Id !== except) return true;
        }
        return false;
      },
      takeRecordFault: (orgId, sobject) => this.takeRecordFault(orgId, sobject),
    };
    const routes = [...sobjectRoutes(this), ...collectionRoutes(this), ...queryRoutes(this, this.cursors)];
    for (const [method, pattern, handler] of routes) this.apiRouter.add(method, pattern, handler as unknown as Handler);
    for (const [method, pattern, handler] of controlRoutes(this)) this.controlRouter.add(method, pattern, handler);
    this.server = createSandboxServer({
      handle: (req) => this.handle(req),
      invalidJsonResponse: sfResponse(400, 'JSON_PARSER_ERROR', 'Unexpected character in the request body: the JSON could not be parsed'),
    });
  }

  now(): number {
    return this.clock();
  }

  get baseUrl(): string {
    const host = this.host === '0.0.0.0' || this.host === '::' ? '127.0.0.1' : this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${host}:${this.port}`;
  }

  publicUrl(): string {
    return this.baseUrl;
  }

  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    this.host = host;
    this.closing = false;
    this.port = await listenServer(this.server, port, host);
    return this.port;
  }

  async close(): Promise<void> {
    this.wakeAll();
    await closeServer(this.server);
  }

  // AuthHost ------------------------------------------------------------------------------------------

  org(orgId: string): Org | undefined {
    return this.orgs.get(orgId);
  }

  orgsByClientId(clientId: string): Org[] {
    return [...this.orgs.values()].filter((o) => o.data.app.clientId === clientId);
  }

  userByUsername(username: string): { org: Org; user: Row } | null {
    for (const org of this.orgs.values()) {
      const user = org.findByUnique('User', 'Username', username);
      if (user) return { org, user };
    }
    return null;
  }

  // SandboxCore ---------------------------------------------------------------------------------------

  transaction<T>(org: Org, actor: Actor, fn: (tx: Transaction) => T, emitEvents = true): T {
    const tx = new Transaction(org, actor, truncateToSecond(this.now()), this.env, emitEvents);
    let result: T;
    try {
      result = fn(tx);
    } catch (e) {
      tx.rollback();
      throw e;
    }
    if (emitEvents && tx.changes.length > 0) {
      this.commitNumber += 1;
      publishChanges(
        org,
        { transactionKey: tx.key, changeOrigin: actor.changeOrigin, commitUser: actor.userId, commitTimestamp: tx.now, commitNumber: 11_000_000_000 + this.commitNumber },
        tx.changes,
        this.now(),
      );
      this.wake(org.id);
    }
    return result;
  }

  // Request pipeline ----------------------------------------------------------------------------------

  private async handle(req: SandboxRequest): Promise<SandboxResponse> {
    const p = req.path;
    try {
      if (p.startsWith('/services/data')) return await this.handleApi(req);
      if (p.startsWith('/services/oauth2/')) return await this.handleOAuth(req);
      if (p.startsWith('/_sandbox/')) return await this.handleControl(req);
      if (p.startsWith('/id/')) return this.handleIdentity(req);
      if (p === '/' || p === '') return { status: 200, body: { service: 'dealreg Salesforce sandbox', baseUrl: this.baseUrl, orgs: this.orgs.size } };
      return sfResponse(404, 'NOT_FOUND', 'The requested resource does not exist');
    } catch (e) {
      if (e instanceof HttpProblem) return e.response;
      throw e;
    }
  }

  private session(req: SandboxRequest, allowQueryToken = false) {
    const auth = req.headers.authorization;
    let token: string | null = null;
    if (typeof auth === 'string') {
      const m = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(auth.trim());
      token = m ? m[1]!.trim() : null;
    }
    if (!token && allowQueryToken) token = req.query.get('oauth_token');
    const session = token ? this.tokens.session(token) : null;
    const org = session ? this.orgs.get(session.orgId) : undefined;
    if (!session || !org) throw invalidSession();
    return { session, org };
  }

  private async handleApi(req: SandboxRequest): Promise<SandboxResponse> {
    const segs = req.path.split('/');
    if (segs.length <= 3 || (segs.length === 4 && segs[3] === '')) {
      const versions = [];
      for (let n = 50; n <= 66; n++) versions.push({ label: 'Sandbox', url: `/services/data/v${n}.0`, version: `${n}.0` });
      return { status: 200, body: versions };
    }
    const { session, org } = this.session(req);
    const stats = org.data.stats;
    const version = segs[3]!;
    const vm = /^v(\d+)\.0$/.exec(version);
    if (!vm || Number(vm[1]) < 50) return this.count(stats, sfResponse(404, 'NOT_FOUND', 'The requested resource does not exist'));
    const isFeed = segs[4] === 'sandbox';
    const fault = this.faults.take(isFeed ? `${org.id}|feed` : org.id);
    if (fault) {
      if (fault.latencyMs) await sleep(fault.latencyMs);
      if (fault.status) {
        stats.faultsServed += 1;
        const r = faultResponse(fault.status);
        r.headers = { ...(r.headers ?? {}), 'sforce-limit-info': `api-usage=${apiUsage(org, this.now())}/${org.settings.dailyApiLimit}` };
        return this.count(stats, r);
      }
    }
    const actor = this.actorOf(req, org, session.userId, vm[1]!);
    if (isFeed) return this.count(stats, await this.handleFeed(req, org, segs));
    let limitInfo: string;
    if (actor.changeOrigin.includes('SfdcInternalAPI')) {
      // A person's edit in the UI does not spend API requests.
      limitInfo = `api-usage=${apiUsage(org, this.now())}/${org.settings.dailyApiLimit}`;
    } else {
      const c = countApiRequest(org, this.now(), this.limitsEnabled);
      limitInfo = `api-usage=${c.used}/${c.max}`;
      if (!c.allowed) {
        stats.limitExceeded += 1;
        const r = sfResponse(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
        r.headers = { 'sforce-limit-info': limitInfo };
        return this.count(stats, r);
      }
      stats.apiRequests += 1;
    }
    const match = this.apiRouter.match(req.method, req.path);
    let response: SandboxResponse;
    if (!('handler' in match)) {
      response = match.methodMismatch
        ? sfResponse(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${req.method}' not allowed. Allowed are GET,PATCH,POST,DELETE`)
        : sfResponse(404, 'NOT_FOUND', 'The requested resource does not exist');
    } else {
      const apiReq = req as ApiRequest;
      apiReq.params = match.params;
      apiReq.org = org;
      apiReq.session = session;
      apiReq.version = version;
      apiReq.versionNumber = `${vm[1]}.0`;
      apiReq.actor = actor;
      try {
        response = await (match.handler as unknown as ApiHandler)(apiReq);
      } catch (e) {
        if (!(e instanceof HttpProblem)) throw e;
        response = e.response;
      }
    }
    response.headers = { ...(response.headers ?? {}), 'sforce-limit-info': limitInfo };
    return this.count(stats, response);
  }

  private count(stats: OrgData['stats'], r: SandboxResponse): SandboxResponse {
    const k = String(r.status);
    stats.byStatus[k] = (stats.byStatus[k] ?? 0) + 1;
    return r;
  }

  private actorOf(req: SandboxRequest, org: Org, sessionUserId: string, versionNumber: string): Actor {
    const header = req.headers['x-sandbox-actor'];
    if (typeof header === 'string' && header.length > 0) {
      const m = /^user:(.+)$/.exec(header.trim());
      const id = m ? toId18(m[1]!) : null;
      const user = id ? org.table('User').get(id) : undefined;
      if (!user) throw sfProblem(400, 'INVALID_CROSS_REFERENCE_KEY', `X-Sandbox-Actor: no user ${header} in this org`);
      return { userId: user.Id, changeOrigin: `com/salesforce/api/soap/${versionNumber}.0;client=SfdcInternalAPI/`, system: false };
    }
    const opts = req.headers['sforce-call-options'];
    const key = `${versionNumber}|${typeof opts === 'string' ? opts : ''}`;
    let changeOrigin = this.originCache.get(key);
    if (changeOrigin === undefined) {
      let client: string | null = null;
      if (typeof opts === 'string') {
        for (const part of opts.split(',')) {
          const [k, ...rest] = part.split('=');
          if (k && k.trim().toLowerCase() === 'client') client = rest.join('=').trim();
        }
      }
      changeOrigin = `com/salesforce/api/rest/${versionNumber}.0${client ? `;client=${client}` : ''}`;
      if (this.originCache.size > 1000) this.originCache.clear();
      this.originCache.set(key, changeOrigin);
    }
    return { userId: sessionUserId, changeOrigin, system: false };
  }

  private async handleFeed(req: SandboxRequest, org: Org, segs: string[]): Promise<SandboxResponse> {
    if (segs.length !== 6 || segs[5] !== 'change-events') return sfResponse(404, 'NOT_FOUND', 'The requested resource does not exist');
    if (req.method !== 'GET') return sfResponse(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${req.method}' not allowed. Allowed are GET`);
    const channel = req.query.get('channel') ?? '/data/ChangeEvents';
    if (!knownChannel(org, channel)) return sfResponse(400, 'INVALID_CHANNEL', `Unknown channel: ${channel}. Channels: /data/ChangeEvents, /data/AccountChangeEvent, /data/OpportunityChangeEvent, /data/PartnerChangeEvent`);
    const replayRaw = req.query.get('replayId') ?? '-1';
    const replayId = Number(replayRaw);
    if (!Number.isInteger(replayId) || replayId < -2) return sfResponse(400, 'INVALID_REPLAY_ID', `The replayId {${replayRaw}} you provided was invalid. Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.`);
    const limit = clampInt(req.query.get('limit'), 100, 1, 1000);
    const waitMs = clampInt(req.query.get('waitMs'), 0, 0, 60_000);
    // Long-poll timing uses the real clock: tests may pin the sandbox clock.
    const deadline = Date.now() + waitMs;
    let result: ReadResult = readChanges(org, channel, replayId, limit, this.now());
    while (result.events.length === 0 && !this.closing && this.orgs.get(org.id) === org) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await this.waitForEvents(org.id, left);
      if (this.orgs.get(org.id) !== org) break;
      result = readChanges(org, channel, result.nextReplayId, limit, this.now());
    }
    return { status: 200, body: result };
  }

  private closing = false;

  private waitForEvents(orgId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(orgId);
      if (!set) {
        set = new Set();
        this.waiters.set(orgId, set);
      }
      const s = set;
      const done = (): void => {
        clearTimeout(timer);
        s.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      s.add(done);
    });
  }

  private wake(orgId: string): void {
    const set = this.waiters.get(orgId);
    if (!set) return;
    this.waiters.delete(orgId);
    for (const w of [...set]) w();
  }

  private wakeAll(): void {
    this.closing = true;
    for (const orgId of [...this.waiters.keys()]) this.wake(orgId);
  }

  private async handleOAuth(req: SandboxRequest): Promise<SandboxResponse> {
    const p = req.path;
    if (p === '/services/oauth2/authorize' && req.method === 'GET') return this.tokens.authorize(req);
    if (p === '/services/oauth2/token' && req.method === 'POST') {
      const fault = this.tokenFault(req);
      if (fault) {
        if (fault.latencyMs) await sleep(fault.latencyMs);
        if (fault.status) return { status: fault.status, body: { error: 'server_error', error_description: 'injected fault: the login server is unavailable' } };
      }
      return this.tokens.token(req);
    }
    if (p === '/services/oauth2/revoke' && (req.method === 'POST' || req.method === 'GET')) return this.tokens.revoke(req);
    if (p === '/services/oauth2/userinfo' && req.method === 'GET') {
      const { session, org } = this.session(req, true);
      return { status: 200, body: userInfoBody(this.baseUrl, org, session.userId) };
    }
    return { status: 404, body: { error: 'not_found', error_description: 'The requested resource does not exist' } };
  }

  private tokenFault(req: SandboxRequest): { status?: number; latencyMs?: number } | null {
    const params = new URLSearchParams(req.rawBody.toString('utf8'));
    let clientId = params.get('client_id');
    const assertion = params.get('assertion');
    if (!clientId && assertion) {
      try {
        clientId = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')).iss ?? null;
      } catch {
        clientId = null;
      }
    }
    if (!clientId) return null;
    for (const org of this.orgsByClientId(clientId)) {
      const f = this.faults.take(`${org.id}|token`);
      if (f) return f;
    }
    return null;
  }

  private handleIdentity(req: SandboxRequest): SandboxResponse {
    const m = /^\/id\/([A-Za-z0-9]+)\/([A-Za-z0-9]+)\/?$/.exec(req.path);
    if (!m) return sfResponse(404, 'NOT_FOUND', 'The requested resource does not exist');
    const { org } = this.session(req, true);
    const userId = toId18(m[2]!);
    if (toId18(m[1]!) !== org.id || !userId || !org.table('User').get(userId)) {
      return { status: 403, body: 'Bad_Id', headers: { 'content-type': 'text/plain' } };
    }
    return { status: 200, body: identityBody(this.baseUrl, org, userId) };
  }

  private async handleControl(req: SandboxRequest): Promise<SandboxResponse> {
    const match = this.controlRouter.match(req.method, req.path);
    if (!('handler' in match)) {
      return { status: match.methodMismatch ? 405 : 404, body: { error: match.methodMismatch ? 'method not allowed' : `no control endpoint ${req.method} ${req.path}` } };
    }
    return match.handler({ ...req, params: match.params });
  }

  // Faults --------------------------------------------------------------------------------------------

  addRecordFault(orgId: string, spec: RecordFaultSpec): void {
    const list = this.recordFaults.get(orgId) ?? [];
    list.push(spec);
    this.recordFaults.set(orgId, list);
  }

  private takeRecordFault(orgId: string, sobject: string): { errorCode: string; message: string } | null {
    const list = this.recordFaults.get(orgId);
    if (!list) return null;
    const i = list.findIndex((s) => s.sobject === null || s.sobject.toLowerCase() === sobject.toLowerCase());
    if (i === -1) return null;
    const spec = list[i]!;
    spec.count -= 1;
    if (spec.count <= 0) list.splice(i, 1);
    if (list.length === 0) this.recordFaults.delete(orgId);
    return { errorCode: spec.errorCode, message: spec.message };
  }

  // Orgs ----------------------------------------------------------------------------------------------

  createOrg(options: CreateOrgOptions = {}): CreatedOrg {
    const now = truncateToSecond(this.now());
    const orgId = makeId(KEY_PREFIX.Organization, ++this.seq);
    this.orgCount += 1;
    const clientId = options.clientId ?? `3MVG9sbx${Buffer.from(orgId).toString('base64url')}${this.orgCount}`;
    const sharing = this.orgsByClientId(clientId);
    const clientSecret = options.clientSecret ?? sharing[0]?.data.app.clientSecret ?? randomSecret();
    if (sharing.some((o) => o.data.app.clientSecret !== clientSecret)) {
      throw new HttpProblem({ status: 409, body: { error: `clientId ${clientId} is already registered with another clientSecret` } });
    }
    const iu = options.integrationUser ?? {};
    const username = iu.username ?? `integration.${this.orgCount}.${orgId.slice(-6).toLowerCase()}@dealreg-sandbox.test`;
    if (this.userByUsername(username)) throw new HttpProblem({ status: 409, body: { error: `username ${username} already exists in another org` } });
    const userId = makeId(KEY_PREFIX.User, ++this.seq);
    const sys = (id: string): Row => ({ Id: id, IsDeleted: false, CreatedDate: now, CreatedById: userId, LastModifiedDate: now, LastModifiedById: userId, SystemModstamp: now });
    const user: Row = {
      ...sys(userId),
      Username: username,
      FirstName: iu.firstName ?? 'Dealreg',
      LastName: iu.lastName ?? 'Integration',
      Name: `${iu.firstName ?? 'Dealreg'} ${iu.lastName ?? 'Integration'}`,
      Email: iu.email ?? username,
      Alias: 'dintg',
      IsActive: true,
      UserType: 'Standard',
      ProfileId: DEFAULT_PROFILE_ID,
      TimeZoneSidKey: 'GMT',
      LocaleSidKey: 'en_US',
      EmailEncodingKey: 'UTF-8',
      LanguageLocaleKey: 'en_US',
      Title: 'Integration User',
    };
    const stages: Row[] = DEFAULT_STAGES.map((s, i) => ({
      ...sys(makeId(KEY_PREFIX.OpportunityStage, ++this.seq)),
      MasterLabel: s.label,
      ApiName: s.label,
      IsActive: true,
      SortOrder: i + 1,
      IsClosed: s.closed,
      IsWon: s.won,
      ForecastCategoryName: s.forecast,
      ForecastCategory: FORECAST_CATEGORY[s.forecast],
      DefaultProbability: s.probability,
      Description: null,
    }));
    const recordTypes: Record<string, RecordTypeInfo[]> = {};
    for (const [sobject, list] of Object.entries(options.recordTypes ?? {})) {
      recordTypes[sobject] = list.map((r, i) => ({
        id: makeId(KEY_PREFIX.RecordType, ++this.seq),
        developerName: r.developerName,
        name: r.name ?? r.developerName.replace(/_/g, ' '),
        isDefault: r.isDefault ?? i === 0,
      }));
    }
    const data: Omit<OrgData, 'tables' | 'events'> = {
      id: orgId,
      name: options.name ?? `Sandbox Org ${this.orgCount}`,
      createdAt: now,
      settings: {
        dailyApiLimit: options.dailyApiLimit ?? 100_000,
        tokenTtlSeconds: options.tokenTtlSeconds ?? 7200,
        withDealregFields: options.withDealregFields ?? true,
        eventRetention: options.eventRetention ?? 100_000,
        eventRetentionHours: options.eventRetentionHours ?? 72,
        maxOpenCursors: options.maxOpenCursors ?? 10,
        recordTypes,
      },
      app: { clientId, clientSecret, jwtCertificate: options.jwtCertificate ?? null, redirectUris: options.redirectUris ?? [] },
      integrationUserId: userId,
      usage: [],
      stats: { apiRequests: 0, limitExceeded: 0, faultsServed: 0, byStatus: {} },
    };
    const org = new Org(data, { User: [user], OpportunityStage: stages }, { log: [], nextReplayId: 1 });
    this.orgs.set(orgId, org);
    const refresh = this.tokens.issueRefresh(org, userId, clientId);
    const access = this.tokens.issueAccess(org, userId, clientId, refresh.token);
    return {
      orgId,
      instanceUrl: this.baseUrl,
      loginUrl: this.baseUrl,
      clientId,
      clientSecret,
      accessToken: access.token,
      refreshToken: refresh.token,
      integrationUserId: userId,
      username,
    };
  }

  requireOrg(orgId: unknown): Org {
    const org = typeof orgId === 'string' ? this.orgs.get(orgId) ?? this.orgs.get(toId18(orgId) ?? '') : undefined;
    if (!org) throw new HttpProblem({ status: 404, body: { error: `no org ${String(orgId)}` } });
    return org;
  }

  deleteOrg(orgId: string): void {
    this.orgs.delete(orgId);
    this.tokens.dropOrg(orgId);
    this.cursors.dropOrg(orgId);
    this.recordFaults.delete(orgId);
    for (const suffix of ['', '|feed', '|token']) this.faults.clear(orgId + suffix);
    this.wake(orgId);
  }

  reset(): void {
    for (const orgId of [...this.waiters.keys()]) this.wake(orgId);
    this.orgs.clear();
    this.tokens.clear();
    this.faults.clear();
    this.recordFaults.clear();
    this.cursors.clear();
  }

  snapshot(): object {
    // A deep copy: the document must not change when the sandbox does afterwards.
    return structuredClone({
      format: SNAPSHOT_FORMAT,
      version: 1,
      seq: this.seq,
      commitNumber: this.commitNumber,
      orgCount: this.orgCount,
      orgs: [...this.orgs.values()].map((o) => o.toData()),
      tokens: this.tokens.toData(),
    });
  }

  restore(snapshot: object): void {
    const s = snapshot as { format?: string; version?: number; seq?: number; commitNumber?: number; orgCount?: number; orgs?: OrgData[]; tokens?: TokenStoreData };
    if (s.format !== SNAPSHOT_FORMAT || s.version !== 1 || !Array.isArray(s.orgs)) {
      throw new HttpProblem({ status: 400, body: { error: `not a ${SNAPSHOT_FORMAT} snapshot (version 1)` } });
    }
    this.reset();
    this.seq = Math.max(this.seq, s.seq ?? 0);
    this.commitNumber = Math.max(this.commitNumber, s.commitNumber ?? 0);
    this.orgCount = Math.max(this.orgCount, s.orgCount ?? 0);
    for (const d of structuredClone(s.orgs)) {
      const { tables, events, ...rest } = d;
      for (const t of TABLES) tables[t] ??= [];
      this.orgs.set(d.id, new Org(rest, tables, events));
    }
    this.tokens.load(structuredClone(s.tokens ?? { access: [], refresh: [] }));
  }
}

function clampInt(raw: string | null, dflt: number, min: number, max: number): number {
  const n = raw === null ? dflt : Number(raw);
  if (!Number.isFinite(n)) return dflt;
  return Math.min(max, Math.max(min, Math.trunc(n)));
}

function randomSecret(): string {
  const hex = Array.from({ length: 4 }, () => Math.floor(Math.random() * 0xffffffff).toString(16).padStart(8, '0')).join('');
  return hex.toUpperCase();
}

/** Salesforce-shaped bodies of injected faults. */
function faultResponse(status: number): SandboxResponse {
  switch (status) {
    case 401:
      return sfResponse(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
    case 403:
      return sfResponse(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
    case 429:
      return sfResponse(429, 'REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded.');
    case 500:
      return sfResponse(500, 'UNKNOWN_EXCEPTION', 'An unexpected error occurred. Please include this ErrorId if you contact support: 1946283017-52807 (-1296512311)');
    case 502:
    case 503:
    case 504:
      return sfResponse(status, 'SERVER_UNAVAILABLE', 'Server is temporarily unavailable. Please try again later.');
    default:
      return sfResponse(status, 'UNKNOWN_EXCEPTION', `Injected fault with status ${status}`);
  }
}

