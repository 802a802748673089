import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, UnsecuredJWT, base64url, calculateJwkThumbprint, decodeJwt } from 'jose';
import {
  AnonymousLoopbackAuthenticator,
  LocalJwtAuthenticator,
  bearerChallenge,
  chainAuthenticators,
  isLoopbackAddress,
  issueToken,
  loadOrCreateSigningKey,
  signingKeyPath,
  type AuthResult,
  type SigningKey,
} from './index.js';

const AUDIENCE = 'https://gateway.portcullis.test/mcp';
const ISSUER = 'portcullis-local';
const IDENTITY = 'support-agent-v1';
const posix = process.platform !== 'win32';

let dataDir: string;
let otherDataDir: string;
let key: SigningKey;
let otherKey: SigningKey;
const configured = new Set([IDENTITY, 'admin-agent']);

function authenticator(overrides: { now?: () => number; clockToleranceSeconds?: number } = {}) {
  return new LocalJwtAuthenticator({ key, audience: AUDIENCE, issuer: ISSUER, isKnownIdentity: (n) => configured.has(n), ...overrides });
}

function issue(overrides: Partial<Parameters<typeof issueToken>[1]> = {}, signingKey = key) {
  return issueToken(signingKey, { identity: IDENTITY, ttlSeconds: 600, audience: AUDIENCE, issuer: ISSUER, ...overrides });
}

const bearer = (token: string, remoteAddress = '127.0.0.1') => ({ authorization: `Bearer ${token}`, remoteAddress });

function assertRejected(result: AuthResult, error: 'invalid_request' | 'invalid_token', description: RegExp) {
  assert.equal(result.ok, false, `expected rejection, got ${JSON.stringify(result)}`);
  if (result.ok) return;
  assert.equal(result.status, 401);
  assert.equal(result.error, error);
  assert.match(result.description, description);
  assert.match(result.wwwAuthenticate, new RegExp(`^Bearer realm="portcullis", error="${error}", error_description="`));
  assert.doesNotMatch(result.wwwAuthenticate, /[\r\n]/);
}

/** Re-encodes one JWT segment (0 header, 1 payload) without re-signing. */
function reencode(token: string, segment: 0 | 1, edit: (obj: Record<string, unknown>) => void): string {
  const parts = token.split('.');
  const obj = JSON.parse(new TextDecoder().decode(base64url.decode(parts[segment])));
  edit(obj);
  parts[segment] = base64url.encode(JSON.stringify(obj));
  return parts.join('.');
}

/** Changes one character in the middle of a segment (middle, so it is never a padding-only bit). */
function flipChar(token: string, segment: number): string {
  const parts = token.split('.');
  const s = parts[segment];
  const i = Math.floor(s.length / 2);
  parts[segment] = s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
  return parts.join('.');
}

before(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'portcullis-auth-'));
  otherDataDir = await mkdtemp(path.join(os.tmpdir(), 'portcullis-auth-other-'));
  key = await loadOrCreateSigningKey(dataDir);
  otherKey = await loadOrCreateSigningKey(otherDataDir);
});

after(async () => {
  await rm(dataDir, { recursive: true, force: true });
  await rm(otherDataDir, { recursive: true, force: true });
});

describe('LocalJwtAuthenticator', () => {
  test('valid token maps to its configured identity', async () => {
    const token = await issue();
    const claims = decodeJwt(token);
    const result = await authenticator().authenticate(bearer(token));
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.principal, {
      identity: IDENTITY,
      method: 'local-jwt',
      expiresAt: (claims.exp as number) * 1000,
      tokenId: claims.jti,
    });
    // The scheme name is case-insensitive (RFC 9110).
    assert.ok((await authenticator().authenticate({ authorization: `bearer ${token}` })).ok);
  });

  test('issued token carries the documented header and claims', async () => {
    const now = Date.UTC(2026, 10, 21, 9, 0, 0);
    const token = await issue({ now, ttlSeconds: 3600 });
    const [h] = token.split('.');
    assert.deepEqual(JSON.parse(new TextDecoder().decode(base64url.decode(h))), { alg: 'EdDSA', kid: key.kid, typ: 'at+jwt' });
    const claims = decodeJwt(token);
    assert.equal(claims.sub, IDENTITY);
    assert.equal(claims.aud, AUDIENCE);
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.iat, now / 1000);
    assert.equal(claims.exp, now / 1000 + 3600);
    assert.match(String(claims.jti), /^[A-Za-z0-9_-]{22}$/);
    assert.notEqual(decodeJwt(await issue({ now })).jti, claims.jti, 'jti must be unique per token');
  });

  test('expired token is rejected (replay of an old or leaked token)', async () => {
    const issuedAt = Date.UTC(2026, 10, 21, 9, 0, 0);
    const token = await issue({ now: issuedAt, ttlSeconds: 3600 });
    const expiry = issuedAt + 3600_000;
    const result = await authenticator({ now: () => expiry + 60_000 }).authenticate(bearer(token));
    assertRejected(result, 'invalid_token', /^token expired at 2026-11-21T10:00:00Z; issue a new one with "portcullis token issue --identity support-agent-v1"$/);
  });

  test('clock tolerance is bounded (a token expired beyond the skew allowance is rejected)', async () => {
    const issuedAt = Date.UTC(2026, 10, 21, 9, 0, 0);
    const token = await issue({ now: issuedAt, ttlSeconds: 60 });
    const expiry = issuedAt + 60_000;
    assert.ok((await authenticator({ now: () => expiry + 3_000 }).authenticate(bearer(token))).ok, 'within default 5 s tolerance');
    assertRejected(await authenticator({ now: () => expiry + 6_000 }).authenticate(bearer(token)), 'invalid_token', /expired/);
    assertRejected(await authenticator({ now: () => expiry + 1_000, clockToleranceSeconds: 0 }).authenticate(bearer(token)), 'invalid_token', /expired/);
  });

  test('token issued in the future is rejected (forward-dated token)', async () => {
    const token = await issue({ now: Date.now() + 3600_000 });
    assertRejected(await authenticator().authenticate(bearer(token)), 'invalid_token', /is in the future/);
  });

  test('tampered payload is rejected (privilege escalation by editing sub)', async () => {
    const token = await issue();
    const escalated = reencode(token, 1, (p) => {
      p.sub = 'admin-agent';
    });
    const signature = /^token signature does not verify: it was not issued by this gateway or was altered$/;
    assertRejected(await authenticator().authenticate(bearer(escalated)), 'invalid_token', signature);
    const extended = reencode(token, 1, (p) => {
      p.exp = (p.exp as number) + 86_400 * 365;
    });
    assertRejected(await authenticator().authenticate(bearer(extended)), 'invalid_token', signature);
    assertRejected(await authenticator().authenticate(bearer(flipChar(token, 1))), 'invalid_token', signature);
    assertRejected(await authenticator().authenticate(bearer(flipChar(token, 2))), 'invalid_token', signature);
  });

  test('token signed by another key is rejected (another gateway or a self-made key)', async () => {
    const foreign = await issue({}, otherKey);
    const result = await authenticator().authenticate(bearer(foreign));
    assertRejected(result, 'invalid_token', /^token signature does not verify: it was not issued by this gateway or was altered/);
    assert.ok(!result.ok && result.description.includes(otherKey.kid), 'names the foreign key id to help diagnose rotation');
    // Claiming our kid does not help.
    const lying = reencode(foreign, 0, (h) => {
      h.kid = key.kid;
    });
    assertRejected(await authenticator().authenticate(bearer(lying)), 'invalid_token', /signature does not verify/);
  });

  test('wrong audience is rejected (token minted for a different service)', async () => {
    const token = await issue({ audience: 'https://other.example/mcp' });
    assertRejected(
      await authenticator().authenticate(bearer(token)),
      'invalid_token',
      /^token audience "https:\/\/other\.example\/mcp" is not this gateway \(expected "https:\/\/gateway\.portcullis\.test\/mcp"\)$/,
    );
  });

  test('wrong issuer is rejected (token from a different issuer sharing the key)', async () => {
    const token = await issue({ issuer: 'someone-else' });
    assertRejected(await authenticator().authenticate(bearer(token)), 'invalid_token', /^token issuer "someone-else" is not this gateway \(expected "portcullis-local"\)$/);
  });

  test('unknown identity is rejected (token for an identity removed from or never in the config)', async () => {
    const ghost = await issue({ identity: 'ghost' });
    assertRejected(await authenticator().authenticate(bearer(ghost)), 'invalid_token', /^identity "ghost" in the token is not configured/);

    configured.add('temp-agent');
    const temp = await issue({ identity: 'temp-agent' });
    assert.ok((await authenticator().authenticate(bearer(temp))).ok);
    configured.delete('temp-agent');
    assertRejected(await authenticator().authenticate(bearer(temp)), 'invalid_token', /identity "temp-agent" in the token is not configured/);
  });

  test('alg none token is rejected (unsigned token)', async () => {
    const unsecured = new UnsecuredJWT({ jti: 'x' })
      .setSubject(IDENTITY)
      .setAudience(AUDIENCE)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime('10m')
      .encode();
    assertRejected(await authenticator().authenticate(bearer(unsecured)), 'invalid_token', /^token algorithm "none" is not accepted/);
    // Our genuine token with its header rewritten to none and the signature stripped.
    const stripped = reencode(await issue(), 0, (h) => {
      h.alg = 'none';
    }).replace(/\.[^.]*$/, '.');
    assertRejected(await authenticator().authenticate(bearer(stripped)), 'invalid_token', /algorithm "none" is not accepted/);
    const noneCase = reencode(await issue(), 0, (h) => {
      h.alg = 'None';
    });
    assertRejected(await authenticator().authenticate(bearer(noneCase)), 'invalid_token', /algorithm "None" is not accepted/);
  });

  test('HS256 token forged with the public key as HMAC secret is rejected (key confusion)', async () => {
    const spkiPem = createPublicKey({ key: key.publicJwk as never, format: 'jwk' }).export({ format: 'pem', type: 'spki' }) as string;
    const secrets: Uint8Array[] = [
      base64url.decode(key.publicJwk.x as string),
      new TextEncoder().encode(JSON.stringify(key.publicJwk)),
      new TextEncoder().encode(spkiPem),
    ];
    for (const secret of secrets) {
      const forged = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'at+jwt' })
        .setSubject('admin-agent')
        .setAudience(AUDIENCE)
        .setIssuer(ISSUER)
        .setIssuedAt()
        .setExpirationTime('10m')
        .setJti('forged')
        .sign(secret);
      assertRejected(await authenticator().authenticate(bearer(forged)), 'invalid_token', /^token algorithm "HS256" is not accepted: this gateway only accepts EdDSA tokens/);
    }
  });

  test('token signed by the gateway key but missing required claims or typ is rejected', async () => {
    const base = () => new SignJWT({}).setSubject(IDENTITY).setAudience(AUDIENCE).setIssuer(ISSUER).setJti('j1');
    const noExp = await base().setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt' }).setIssuedAt().sign(key.privateKey);
    assertRejected(await authenticator().authenticate(bearer(noExp)), 'invalid_token', /missing the required "exp" claim/);

    const wrongTyp = await base().setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' }).setIssuedAt().setExpirationTime('10m').sign(key.privateKey);
    assertRejected(await authenticator().authenticate(bearer(wrongTyp)), 'invalid_token', /token type "JWT" is not a Portcullis access token/);

    const tooLong = await base()
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt' })
      .setIssuedAt()
      .setExpirationTime('30d')
      .sign(key.privateKey);
    assertRejected(await authenticator().authenticate(bearer(tooLong)), 'invalid_token', /lifetime exceeds 86400 seconds/);
  });

  test('missing Authorization header gets a bare RFC 6750 challenge', async () => {
    const result = await authenticator().authenticate({ remoteAddress: '127.0.0.1' });
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.status, 401);
    assert.equal(result.error, 'invalid_request');
    assert.equal(result.wwwAuthenticate, 'Bearer realm="portcullis"');
    assert.match(result.description, /no Authorization header; send "Authorization: Bearer <token>"/);
  });

  test('non-Bearer or malformed Authorization header is rejected as invalid_request', async () => {
    const auth = authenticator();
    assertRejected(await auth.authenticate({ authorization: 'Basic dXNlcjpwYXNz' }), 'invalid_request', /^Authorization header is not a Bearer token \(it uses the "Basic" scheme\)/);
    assertRejected(await auth.authenticate({ authorization: '' }), 'invalid_request', /Authorization header is empty/);
    assertRejected(await auth.authenticate({ authorization: 'Bearer' }), 'invalid_request', /carries no token/);
    assertRejected(await auth.authenticate({ authorization: 'Bearer a"b' }), 'invalid_request', /characters a token cannot contain/);
    assertRejected(await auth.authenticate({ authorization: `Bearer ${'a'.repeat(9000)}` }), 'invalid_request', /longer than 8192/);
  });

  test('garbage that is not a JWT is rejected as invalid_token', async () => {
    const auth = authenticator();
    for (const token of ['abc', 'a.b', 'a.b.c', 'a.b.c.d.e', `${base64url.encode('[]')}.e30.sig`]) {
      assertRejected(await auth.authenticate(bearer(token)), 'invalid_token', /not a well-formed JWT/);
    }
  });

  test('reflected claim values cannot inject headers into WWW-Authenticate', async () => {
    const token = await issue({ audience: 'x"\r\nSet-Cookie: pwned=1' });
    const result = await authenticator().authenticate(bearer(token));
    assertRejected(result, 'invalid_token', /token audience/);
    assert.ok(!result.ok && !/[\r\n]/.test(result.description));
    assert.equal(
      bearerChallenge({ error: 'invalid_token', errorDescription: 'a "quoted" \\ value\r\nX: y' }),
      'Bearer realm="portcullis", error="invalid_token", error_description="a \\"quoted\\" \\\\ value??X: y"',
    );
  });
});

describe('issueToken', () => {
  test('refuses lifetimes outside 1..86400 seconds (long-lived credential)', async () => {
    for (const ttlSeconds of [0, -1, 86_401, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await assert.rejects(issue({ ttlSeconds }), /ttlSeconds must be a whole number of seconds from 1 to 86400/);
    }
    assert.ok(await issue({ ttlSeconds: 86_400 }));
    assert.ok(await issue({ ttlSeconds: 1 }));
  });

  test('refuses an empty identity', async () => {
    await assert.rejects(issue({ identity: '' }), /identity must be a non-empty string/);
  });
});

describe('AnonymousLoopbackAuthenticator', () => {
  const anon = new AnonymousLoopbackAuthenticator('dev-agent');

  test('accepted only from loopback and only without an Authorization header', async () => {
    for (const remoteAddress of ['127.0.0.1', '127.8.9.10', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) {
      const result = await anon.authenticate({ remoteAddress });
      assert.deepEqual(result, { ok: true, principal: { identity: 'dev-agent', method: 'anonymous-loopback' } }, remoteAddress);
    }
    for (const remoteAddress of ['10.0.0.1', '192.168.1.20', '0.0.0.0', '::', '::ffff:10.0.0.1', '2001:db8::1', 'localhost', '', undefined]) {
      const result = await anon.authenticate({ remoteAddress });
      assert.equal(result.ok, false, String(remoteAddress));
      if (!result.ok) {
        assert.equal(result.status, 401);
        assert.equal(result.error, 'invalid_request');
        assert.equal(result.wwwAuthenticate, 'Bearer realm="portcullis"');
        assert.match(result.description, /only allowed from loopback/);
      }
    }
    for (const authorization of ['Bearer anything', '', 'Basic dXNlcjpwYXNz']) {
      const result = await anon.authenticate({ authorization, remoteAddress: '127.0.0.1' });
      assert.equal(result.ok, false, `header ${JSON.stringify(authorization)} must not be anonymous`);
    }
  });

  test('isLoopbackAddress', () => {
    assert.equal(isLoopbackAddress('::ffff:7f00:1'), true);
    assert.equal(isLoopbackAddress('128.0.0.1'), false);
    assert.equal(isLoopbackAddress('fe80::1%eth0'), false);
    assert.equal(isLoopbackAddress('127.0.0.1.example.com'), false);
  });
});

describe('chainAuthenticators', () => {
  const chain = () => chainAuthenticators(authenticator(), new AnonymousLoopbackAuthenticator('dev-agent'));

  test('bad token with anonymous configured is still rejected (no downgrade to anonymous)', async () => {
    const bad = [
      reencode(await issue(), 1, (p) => {
        p.sub = 'admin-agent';
      }),
      await issue({}, otherKey),
      await issue({ identity: 'ghost' }),
      'not-a-jwt',
    ];
    for (const token of bad) {
      assertRejected(await chain().authenticate(bearer(token, '127.0.0.1')), 'invalid_token', /./);
    }
    assertRejected(await chain().authenticate({ authorization: 'Basic dXNlcjpwYXNz', remoteAddress: '::1' }), 'invalid_request', /not a Bearer token/);
    assertRejected(await chain().authenticate({ authorization: '', remoteAddress: '::1' }), 'invalid_request', /empty/);
  });

  test('valid token wins over anonymous, anonymous only for header-less loopback requests', async () => {
    const viaToken = await chain().authenticate(bearer(await issue(), '127.0.0.1'));
    assert.ok(viaToken.ok && viaToken.principal.identity === IDENTITY && viaToken.principal.method === 'local-jwt');
    const viaLoopback = await chain().authenticate({ remoteAddress: '127.0.0.1' });
    assert.ok(viaLoopback.ok && viaLoopback.principal.method === 'anonymous-loopback');
    const remote = await chain().authenticate({ remoteAddress: '203.0.113.7' });
    assert.equal(remote.ok, false);
    assert.ok(!remote.ok && remote.wwwAuthenticate === 'Bearer realm="portcullis"' && remote.error === 'invalid_request');
  });
});

describe('loadOrCreateSigningKey', () => {
  test('key persists across loads with 0600 perms in a 0700 directory', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'portcullis-key-'));
    try {
      const first = await loadOrCreateSigningKey(dir);
      const second = await loadOrCreateSigningKey(dir);
      assert.equal(second.kid, first.kid);
      assert.equal(first.alg, 'EdDSA');
      assert.equal(first.path, signingKeyPath(dir));
      assert.equal(first.path, path.join(dir, 'keys', 'token-signing.jwk.json'));
      assert.equal(first.kid, await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: first.publicJwk.x as string }, 'sha256'));
      assert.equal((first.publicJwk as Record<string, unknown>).d, undefined, 'public JWK must not carry the private key');
      assert.equal(first.privateKey.extractable, false);
      const stored = JSON.parse(await readFile(first.path, 'utf8'));
      assert.equal(stored.kty, 'OKP');
      assert.equal(stored.crv, 'Ed25519');
      assert.equal(stored.kid, first.kid);
      assert.equal(typeof stored.d, 'string');
      if (posix) {
        assert.equal((await stat(first.path)).mode & 0o777, 0o600);
        assert.equal((await stat(path.dirname(first.path))).mode & 0o777, 0o700);
      }
      // A token issued before a restart still verifies after it.
      const token = await issueToken(first, { identity: IDENTITY, ttlSeconds: 60, audience: AUDIENCE, issuer: ISSUER });
      const after = new LocalJwtAuthenticator({ key: second, audience: AUDIENCE, issuer: ISSUER, isKnownIdentity: () => true });
      assert.ok((await after.authenticate(bearer(token))).ok);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('concurrent first starts agree on one key (no key clobbering)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'portcullis-key-race-'));
    try {
      const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateSigningKey(dir)));
      assert.equal(new Set(keys.map((k) => k.kid)).size, 1);
      assert.equal((await loadOrCreateSigningKey(dir)).kid, keys[0].kid);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('corrupt key file fails with an actionable error (no silent key replacement)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'portcullis-key-corrupt-'));
    try {
      const created = await loadOrCreateSigningKey(dir);
      const original = JSON.parse(await readFile(created.path, 'utf8'));
      const cases: Array<[string, RegExp]> = [
        ['{ not json', /is corrupt: it is not valid JSON/],
        ['[]', /is corrupt: it is not a JSON object/],
        [JSON.stringify({ ...original, crv: 'P-256' }), /not an Ed25519 JWK/],
        [JSON.stringify({ ...original, d: undefined }), /"d" is missing or malformed/],
        [JSON.stringify({ ...original, x: otherKey.publicJwk.x }), /does not match the public key/],
        [JSON.stringify({ ...original, kid: 'nope' }), /"kid" is not the RFC 7638 thumbprint/],
      ];
      for (const [contents, reason] of cases) {
        await writeFile(created.path, contents, { mode: 0o600 });
        await assert.rejects(loadOrCreateSigningKey(dir), (err: Error) => {
          assert.match(err.message, reason);
          assert.ok(err.message.includes(created.path), 'names the file');
          assert.match(err.message, /Restore it from a backup, or delete it/);
          return true;
        });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('key file readable by other users is refused', { skip: !posix }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'portcullis-key-perms-'));
    try {
      const created = await loadOrCreateSigningKey(dir);
      await chmod(created.path, 0o644);
      await assert.rejects(loadOrCreateSigningKey(dir), /accessible to other users \(mode 0644\); run "chmod 600/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
