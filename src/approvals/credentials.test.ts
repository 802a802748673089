import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalJwtAuthenticator, issueToken, loadOrCreateSigningKey, type SigningKey } from '../auth/index.js';
import { ApproverAuthenticator, issueApproverToken } from './credentials.js';

const AUD = 'portcullis';
const ISS = 'portcullis-local';
let dir: string;
let otherDir: string;
let key: SigningKey;
let otherKey: SigningKey;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-approver-'));
  otherDir = await mkdtemp(join(tmpdir(), 'portcullis-approver-other-'));
  key = await loadOrCreateSigningKey(dir);
  otherKey = await loadOrCreateSigningKey(otherDir);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(otherDir, { recursive: true, force: true });
});

const identities = new Set(['support-agent-v1']);
const approvers = new Set(['alice']);
const agentAuth = () => new LocalJwtAuthenticator({ key, audience: AUD, issuer: ISS, isKnownIdentity: (n) => identities.has(n) });
const approverAuth = () =>
  new ApproverAuthenticator({ key, audience: AUD, issuer: ISS, isApprover: (n) => approvers.has(n), isIdentity: (n) => identities.has(n), agentAuthenticator: agentAuth() });
const bearer = (t: string) => ({ authorization: `Bearer ${t}`, remoteAddress: '127.0.0.1' });

describe('approver credentials are separate from agent credentials', () => {
  test('an approver token of a configured approver is accepted', async () => {
    const token = await issueApproverToken(key, { approver: 'alice', ttlSeconds: 300, audience: AUD, issuer: ISS });
    const r = await approverAuth().authenticate(bearer(token));
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.approver, 'alice');
  });

  test("an agent's own token can never approve: 403 naming it as an agent credential", async () => {
    const agent = await issueToken(key, { identity: 'support-agent-v1', ttlSeconds: 300, audience: AUD, issuer: ISS });
    const r = await approverAuth().authenticate(bearer(agent));
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.status, 403);
    assert.match(!r.ok ? r.description : '', /agent credential \(identity "support-agent-v1"\).*can never approve/);
  });

  test('an approver-shaped token whose subject is an agent identity is refused (self-approval by name)', async () => {
    const token = await issueApproverToken(key, { approver: 'support-agent-v1', ttlSeconds: 300, audience: AUD, issuer: ISS });
    const r = await approverAuth().authenticate(bearer(token));
    assert.equal(!r.ok && r.status, 403);
  });

  test('an approver token for a name not in approvals.approvers is refused (removed approver)', async () => {
    const token = await issueApproverToken(key, { approver: 'mallory', ttlSeconds: 300, audience: AUD, issuer: ISS });
    const r = await approverAuth().authenticate(bearer(token));
    assert.equal(!r.ok && r.status, 403);
  });

  test('forged, foreign-key, expired and missing approver credentials get 401', async () => {
    const foreign = await issueApproverToken(otherKey, { approver: 'alice', ttlSeconds: 300, audience: AUD, issuer: ISS });
    assert.equal(((await approverAuth().authenticate(bearer(foreign))) as { status: number }).status, 401);
    const token = await issueApproverToken(key, { approver: 'alice', ttlSeconds: 300, audience: AUD, issuer: ISS });
    const [h, p, s] = token.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    payload.sub = 'bob';
    const forged = [h, Buffer.from(JSON.stringify(payload)).toString('base64url'), s].join('.');
    assert.equal(((await approverAuth().authenticate(bearer(forged))) as { status: number }).status, 401);
    const old = await issueApproverToken(key, { approver: 'alice', ttlSeconds: 60, audience: AUD, issuer: ISS, now: Date.now() - 3600_000 });
    assert.equal(((await approverAuth().authenticate(bearer(old))) as { status: number }).status, 401);
    const none = await approverAuth().authenticate({ remoteAddress: '127.0.0.1' });
    assert.equal(!none.ok && none.status, 401);
  });

  test('an approver token is not an agent token (it cannot open an MCP session)', async () => {
    const token = await issueApproverToken(key, { approver: 'alice', ttlSeconds: 300, audience: AUD, issuer: ISS });
    const r = await agentAuth().authenticate(bearer(token));
    assert.equal(r.ok, false);
  });
});
