// Test kit for the Salesforce sandbox tests: a sandbox on port 0, orgs made through the control API,
// and real jsforce connections to them. Control calls use fetch; Salesforce calls go through jsforce.
import { Connection } from 'jsforce';
import { createSalesforceSandbox, type SalesforceSandbox, type SalesforceSandboxOptions } from '../../../src/sandbox/salesforce';

export const API_VERSION = '66.0';

export interface TestOrg {
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

export interface Kit {
  sandbox: SalesforceSandbox;
  baseUrl: string;
  control<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  createOrg(options?: Record<string, unknown>): Promise<TestOrg>;
  connect(org: TestOrg, extra?: Partial<ConstructorParameters<typeof Connection>[0]>): Connection;
  seed(org: TestOrg, body: Record<string, unknown>): Promise<any>;
}

/** Starts a sandbox before the file's tests and stops it after them. */
export function useSalesforceSandbox(options: SalesforceSandboxOptions = {}): Kit {
  const kit = {} as Kit;
  beforeAll(async () => {
    kit.sandbox = createSalesforceSandbox(options);
    const port = await kit.sandbox.listen(0);
    kit.baseUrl = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await kit.sandbox.close();
  });
  kit.control = async (method, path, body) => {
    const res = await fetch(`${kit.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  kit.createOrg = async (options2 = {}) => {
    const res = await kit.control<TestOrg>('POST', '/_sandbox/orgs', options2);
    if (res.status !== 201) throw new Error(`createOrg failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  kit.connect = (org, extra = {}) =>
    new Connection({ instanceUrl: org.instanceUrl, accessToken: org.accessToken, version: API_VERSION, callOptions: { client: 'dealreg' }, ...extra });
  kit.seed = async (org, body) => {
    const res = await kit.control('POST', `/_sandbox/orgs/${org.orgId}/seed`, body);
    if (res.status !== 201) throw new Error(`seed failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  return kit;
}

/** The error jsforce throws for a failed call, for assertions on Salesforce's error shape. */
export async function failure(p: PromiseLike<unknown>): Promise<{ errorCode: string; message: string; data: any; name: string }> {
  try {
    await p;
  } catch (e) {
    return e as { errorCode: string; message: string; data: any; name: string };
  }
  throw new Error('expected the call to fail');
}

export const ID18 = /^[a-zA-Z0-9]{18}$/;
