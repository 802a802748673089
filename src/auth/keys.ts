import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { chmod, link, lstat, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { syncDir } from '../util/durable-fs.js';

/** File name of the gateway's token-signing key inside `<dataDir>/keys/`. */
export const SIGNING_KEY_FILE = 'token-signing.jwk.json';

/** The only JWS algorithm this gateway signs or accepts for its own tokens. */
export const SIGNING_ALG = 'EdDSA';

/**
 * The gateway's token-signing key. The private half is a non-extractable
 * CryptoKey, so the key material cannot leak through logging or serialisation
 * of this object.
 */
export interface SigningKey {
  /** RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key; used as JWS `kid`. */
  readonly kid: string;
  readonly alg: typeof SIGNING_ALG;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** Public JWK (no private member), e.g. for publishing a JWKS. */
  readonly publicJwk: Readonly<JWK>;
  /** Where the private JWK is stored. */
  readonly path: string;
}

export class SigningKeyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SigningKeyError';
  }
}

const checkPermissions = process.platform !== 'win32';

/** Path of the signing key file for a data directory. */
export function signingKeyPath(dataDir: string): string {
  return path.join(dataDir, 'keys', SIGNING_KEY_FILE);
}

/**
 * Loads the gateway's Ed25519 token-signing key from
 * `<dataDir>/keys/token-signing.jwk.json`, generating and storing it on first
 * use (directory mode 0700, file mode 0600, written atomically). Concurrent
 * first starts converge on one key: the file is published with link(2), which
 * never overwrites an existing key.
 */
export async function loadOrCreateSigningKey(dataDir: string): Promise<SigningKey> {
  const keysDir = path.join(dataDir, 'keys');
  const keyPath = path.join(keysDir, SIGNING_KEY_FILE);
  await ensurePrivateDir(keysDir);

  const existing = await readKeyFile(keyPath);
  if (existing !== undefined) return parseStoredKey(existing, keyPath);

  const created = await generateStoredKey();
  const published = await publishExclusive(keysDir, keyPath, `${JSON.stringify(created, null, 2)}\n`);
  if (!published) {
    // Another process created the key between our read and our publish: use theirs.
    const theirs = await readKeyFile(keyPath);
    if (theirs === undefined) throw new SigningKeyError(`signing key file ${keyPath} disappeared while it was being created; start again`);
    return parseStoredKey(theirs, keyPath);
  }
  return parseStoredKey(JSON.stringify(created), keyPath);
}

async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!checkPermissions) return;
  const info = await lstat(dir);
  if (!info.isDirectory()) throw new SigningKeyError(`${dir} exists but is not a directory; move it away so the key directory can be created`);
  if ((info.mode & 0o077) !== 0) {
    try {
      await chmod(dir, 0o700);
    } catch (cause) {
      throw new SigningKeyError(`key directory ${dir} is accessible to other users and cannot be restricted; run "chmod 700 ${dir}"`, { cause });
    }
  }
}

async function readKeyFile(keyPath: string): Promise<string | undefined> {
  let info;
  try {
    info = await lstat(keyPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (!info.isFile()) {
    throw new SigningKeyError(`signing key path ${keyPath} is not a regular file (symlinks are refused); remove it and restart to generate a new key`);
  }
  if (checkPermissions && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
    throw new SigningKeyError(
      `signing key file ${keyPath} is accessible to other users (mode ${mode}); ` +
        `run "chmod 600 ${keyPath}" — and if others may have read it, delete it to generate a new key and re-issue all tokens`,
    );
  }
  return readFile(keyPath, 'utf8');
}

interface StoredKey {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  d: string;
  kid: string;
  alg: typeof SIGNING_ALG;
  use: 'sig';
}

async function generateStoredKey(): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string' || typeof jwk.d !== 'string') {
    throw new Error('generated signing key is not an Ed25519 key');
  }
  const kid = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: jwk.x }, 'sha256');
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d, kid, alg: SIGNING_ALG, use: 'sig' };
}

/**
 * Writes `contents` to a fresh 0600 temp file in `dir`, fsyncs it, then
 * publishes it at `target` without ever overwriting an existing file.
 * Returns false if `target` already exists.
 */
async function publishExclusive(dir: string, target: string, contents: string): Promise<boolean> {
  const tmp = path.join(dir, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(contents, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    try {
      await link(tmp, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      // Filesystems without hard links: fall back to rename (atomic, but may replace a concurrent writer's file).
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS' || code === 'EXDEV') {
        await rename(tmp, target);
      } else {
        throw err;
      }
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  await syncDir(dir);
  return true;
}

function corrupt(keyPath: string, why: string, cause?: unknown): SigningKeyError {
  return new SigningKeyError(
    `signing key file ${keyPath} is corrupt: ${why}. ` +
      'Restore it from a backup, or delete it so a new key is generated on the next start ' +
      '(tokens issued with the old key then stop working and must be re-issued).',
    cause === undefined ? undefined : { cause },
  );
}

const B64URL_32_BYTES = /^[A-Za-z0-9_-]{43}$/;

async function parseStoredKey(text: string, keyPath: string): Promise<SigningKey> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw corrupt(keyPath, 'it is not valid JSON', cause);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw corrupt(keyPath, 'it is not a JSON object');
  const jwk = raw as Record<string, unknown>;
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') throw corrupt(keyPath, 'it is not an Ed25519 JWK (expected "kty": "OKP", "crv": "Ed25519")');
  if (typeof jwk.x !== 'string' || !B64URL_32_BYTES.test(jwk.x)) throw corrupt(keyPath, 'the public key member "x" is missing or malformed');
  if (typeof jwk.d !== 'string' || !B64URL_32_BYTES.test(jwk.d)) throw corrupt(keyPath, 'the private key member "d" is missing or malformed');
  if (jwk.alg !== undefined && jwk.alg !== SIGNING_ALG) throw corrupt(keyPath, `"alg" is ${JSON.stringify(jwk.alg)}, expected "${SIGNING_ALG}"`);

  const x = jwk.x;
  const d = jwk.d;
  // The private scalar must produce the stored public key, or tokens would not verify.
  let derivedX: unknown;
  try {
    derivedX = createPublicKey(createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x, d }, format: 'jwk' })).export({ format: 'jwk' }).x;
  } catch (cause) {
    throw corrupt(keyPath, 'the key material cannot be imported', cause);
  }
  if (derivedX !== x) throw corrupt(keyPath, 'the private key "d" does not match the public key "x"');

  const kid = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x }, 'sha256');
  if (jwk.kid !== undefined && jwk.kid !== kid) throw corrupt(keyPath, '"kid" is not the RFC 7638 thumbprint of the key');

  let privateKey: CryptoKey;
  let publicKey: CryptoKey;
  try {
    privateKey = (await importJWK({ kty: 'OKP', crv: 'Ed25519', x, d }, SIGNING_ALG, { extractable: false })) as CryptoKey;
    publicKey = (await importJWK({ kty: 'OKP', crv: 'Ed25519', x }, SIGNING_ALG)) as CryptoKey;
  } catch (cause) {
    throw corrupt(keyPath, 'the key material cannot be imported', cause);
  }
  const publicJwk: JWK = Object.freeze({ kty: 'OKP', crv: 'Ed25519', x, kid, alg: SIGNING_ALG, use: 'sig' });
  return Object.freeze({ kid, alg: SIGNING_ALG, privateKey, publicKey, publicJwk, path: keyPath });
}
