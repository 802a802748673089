import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, verifyAuditLog } from './index.js';
import { isSecretKey, MAX_REDACT_DEPTH, redactSecretFields } from './redact.js';

const SECRET_KEYS = [
  'password', 'Password', 'PASSWORD', 'passwd', 'pwd', 'newPassword', 'db_password', 'passwordHash',
  'secret', 'client_secret', 'clientSecret', 'Client-Secret', 'webhookSecret',
  'token', 'Token', 'access_token', 'accessToken', 'refresh_token', 'id_token', 'auth_token', 'githubToken', 'X-Auth-Token',
  'api_key', 'apiKey', 'APIKEY', 'api-key', 'x-api-key', 'openaiApiKey',
  'access_key', 'aws_access_key_id', 'secret_key', 'secretAccessKey', 'private_key', 'privateKey',
  'authorization', 'Authorization', 'proxy-authorization',
  'cookie', 'Cookie', 'set-cookie', 'Set-Cookie',
  'credential', 'credentials', 'Credentials', 'session_key', 'sessionKey', 'passphrase', 'otp', 'OTP',
];

const BENIGN_KEYS = [
  'max_tokens', 'maxTokens', 'tokens_used', 'token_count', 'input_tokens', 'tokenizer',
  'path', 'query', 'username', 'user', 'author', 'key', 'keys', 'session', 'sessionId', 'cursor',
  'content', 'description', 'authorizationUrl', 'cookiePolicy', 'cwd', 'options', 'shopping_cart', 'footprint',
];

describe('redaction: secrets passed as tool arguments must never reach the audit log', () => {
  test('every secret-like key name is recognised, whatever its casing or separators', () => {
    for (const k of SECRET_KEYS) assert.equal(isSecretKey(k), true, `${k} should be treated as a secret`);
  });

  test('benign keys that merely resemble secrets are kept, so the log stays useful', () => {
    for (const k of BENIGN_KEYS) assert.equal(isSecretKey(k), false, `${k} should not be treated as a secret`);
  });

  test('secret fields are redacted when nested, inside arrays, and with varied casing', () => {
    const input = {
      path: '/tmp/x',
      max_tokens: 512,
      Password: 'hunter2',
      auth: { Authorization: 'Bearer abc', nested: { deeper: [{ API_KEY: 'k1' }, { note: 'fine', refresh_token: 'r1' }] } },
      headers: [{ 'Set-Cookie': 'sid=1' }, { accept: 'json' }],
      credentials: { user: 'u', pass: 'p' },
    };
    assert.deepEqual(redactSecretFields(input), {
      path: '/tmp/x',
      max_tokens: 512,
      Password: '[REDACTED]',
      auth: { Authorization: '[REDACTED]', nested: { deeper: [{ API_KEY: '[REDACTED]' }, { note: 'fine', refresh_token: '[REDACTED]' }] } },
      headers: [{ 'Set-Cookie': '[REDACTED]' }, { accept: 'json' }],
      // a whole secret-named subtree goes, not just its string leaves
      credentials: '[REDACTED]',
    });
  });

  test('the input is not modified (the gateway still forwards the real arguments)', () => {
    const input = { token: 't', inner: { secret: 's' } };
    redactSecretFields(input);
    assert.deepEqual(input, { token: 't', inner: { secret: 's' } });
  });

  test('cyclic arguments do not crash the audit path', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    a.list = [a, { token: 'x' }];
    assert.deepEqual(redactSecretFields(a), { name: 'a', self: '[CIRCULAR]', list: ['[CIRCULAR]', { token: '[REDACTED]' }] });
  });

  test('shared (non-cyclic) references are copied, not mistaken for cycles', () => {
    const shared = { v: 1 };
    assert.deepEqual(redactSecretFields({ a: shared, b: shared }), { a: { v: 1 }, b: { v: 1 } });
  });

  test('absurdly deep arguments are truncated instead of overflowing the stack', () => {
    let deep: unknown = { token: 'bottom' };
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    const out = redactSecretFields(deep);
    let node = out as Record<string, unknown>;
    let depth = 0;
    while (typeof node === 'object') {
      node = node.d as Record<string, unknown>;
      depth++;
    }
    assert.equal(node, '[TRUNCATED]');
    assert.equal(depth, MAX_REDACT_DEPTH);
  });

  test('the copy is plain JSON, so a hashed record survives its own round trip', () => {
    const input = {
      big: 10n,
      nan: NaN,
      inf: -Infinity,
      gone: undefined,
      fn: () => 1,
      arr: [undefined, () => 1, 1],
      when: new Date('2024-01-02T03:04:05.678Z'),
      ['__proto__']: 'own key, not a prototype',
    };
    const out = redactSecretFields(input) as Record<string, unknown>;
    assert.equal(out.big, '10');
    assert.equal(out.nan, null);
    assert.equal(out.inf, null);
    assert.equal('gone' in out, false);
    assert.equal('fn' in out, false);
    assert.deepEqual(out.arr, [null, null, 1]);
    assert.equal(out.when, '2024-01-02T03:04:05.678Z');
    assert.equal(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, 'own key, not a prototype');
    const withProto = redactSecretFields(JSON.parse('{"__proto__":{"token":"x"}}')) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(withProto), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(withProto, '__proto__')?.value, { token: '[REDACTED]' });
  });

  test('secret values never appear in the audit file bytes, and the chain still verifies', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-audit-'));
    try {
      const log = await AuditLog.open({ dir });
      await log.append({
        type: 'call',
        tool: 'deploy',
        args: { repo: 'acme/site', githubToken: 'ghp_SECRET_ONE', opts: [{ Client_Secret: 'SECRET_TWO' }], max_tokens: 77 },
        detail: { headers: { authorization: 'Bearer SECRET_THREE', 'x-request-id': 'req-1' } },
      });
      await log.close();
      const bytes = await readFile(join(dir, 'audit.jsonl'), 'utf8');
      for (const s of ['SECRET_ONE', 'SECRET_TWO', 'SECRET_THREE']) assert.equal(bytes.includes(s), false, `${s} leaked`);
      const rec = JSON.parse(bytes);
      assert.deepEqual(rec.args, { repo: 'acme/site', githubToken: '[REDACTED]', opts: [{ Client_Secret: '[REDACTED]' }], max_tokens: 77 });
      assert.deepEqual(rec.detail, { headers: { authorization: '[REDACTED]', 'x-request-id': 'req-1' } });
      assert.deepEqual(await verifyAuditLog(dir), { ok: true, count: 1, lastHash: rec.hash });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
