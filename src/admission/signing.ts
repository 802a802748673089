/**
 * Ed25519 signatures over portcullis.lock. A team lists its reviewers' public
 * keys in the config and requires k of them: one stolen laptop key cannot
 * admit a server on its own. node:crypto does Ed25519 natively, so no library
 * is needed here.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { signingPayload, type Lock } from './lock.js';

export interface TrustedKey {
  /** The name the config gives it, for messages ("signed by alice"). */
  name: string;
  key: KeyObject;
  id: string;
}

export function keyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export interface GeneratedKey {
  privatePem: string;
  publicPem: string;
  id: string;
}

export function generateSigningKey(): GeneratedKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    id: keyId(publicKey),
  };
}

/** Writes NAME.key (mode 0600, never overwritten) and NAME.pub. */
export async function writeKeyPair(basePath: string, key: GeneratedKey): Promise<{ privatePath: string; publicPath: string }> {
  const privatePath = `${basePath}.key`;
  const publicPath = `${basePath}.pub`;
  await writeFile(privatePath, key.privatePem, { mode: 0o600, flag: 'wx' });
  await writeFile(publicPath, key.publicPem, { flag: 'wx' });
  return { privatePath, publicPath };
}

function ed25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${what} is a ${key.asymmetricKeyType} key; lock signatures use Ed25519 keys from "portcullis keygen"`);
  return key;
}

/** A public key from PEM text, or from the file a path names. */
export async function loadPublicKey(source: string, what: string): Promise<KeyObject> {
  const pem = source.includes('-----BEGIN') ? source : await readFile(source, 'utf8').catch((e: Error) => {
    throw new Error(`${what}: cannot read public key file ${source} (${e.message}); give the path of a .pub file from "portcullis keygen" or the PEM text`);
  });
  try {
    return ed25519(createPublicKey(pem), what);
  } catch (error) {
    throw new Error(`${what}: not a usable public key (${(error as Error).message})`);
  }
}

/** The keys `admission.trusted_keys` names (signer name → .pub file or PEM), with their ids. */
export async function loadTrustedKeys(keys: Readonly<Record<string, string>>): Promise<TrustedKey[]> {
  const out: TrustedKey[] = [];
  for (const [name, source] of Object.entries(keys)) {
    const key = await loadPublicKey(source, `admission.trusted_keys.${name}`);
    out.push({ name, key, id: keyId(key) });
  }
  return out;
}

export async function loadPrivateKey(path: string): Promise<KeyObject> {
  const pem = await readFile(path, 'utf8').catch((e: Error) => {
    throw new Error(`cannot read the signing key ${path} (${e.message}); create one with "portcullis keygen"`);
  });
  try {
    return ed25519(createPrivateKey(pem), path);
  } catch (error) {
    throw new Error(`${path} is not a usable private key (${(error as Error).message})`);
  }
}

/** Returns the lock with this key's signature added (replacing an older one by the same key). */
export function signLock(lock: Lock, privateKey: KeyObject): Lock {
  const id = keyId(createPublicKey(privateKey));
  const signature = sign(null, signingPayload(lock), privateKey).toString('base64');
  return { ...lock, signatures: [...lock.signatures.filter((s) => s.key !== id), { key: id, signature }].sort((a, b) => (a.key < b.key ? -1 : 1)) };
}

export interface LockVerification {
  ok: boolean;
  /** Names of trusted keys whose signature verified. */
  signers: string[];
  /** One line per signature that did not count, saying why. */
  problems: string[];
  required: number;
}

/** Counts valid signatures by distinct trusted keys; unknown keys and bad signatures never count. */
export function verifyLock(lock: Lock, trusted: readonly TrustedKey[], required: number): LockVerification {
  const payload = signingPayload(lock);
  const signers: string[] = [];
  const problems: string[] = [];
  for (const s of lock.signatures) {
    const key = trusted.find((k) => k.id === s.key);
    if (!key) {
      problems.push(`signature by key ${s.key} does not count: that key is not in admission.trusted_keys`);
      continue;
    }
    let valid = false;
    try {
      valid = verify(null, payload, key.key, Buffer.from(s.signature, 'base64'));
    } catch {
      valid = false;
    }
    if (!valid) problems.push(`signature by ${key.name} (${s.key}) does not verify: the lock changed after it was signed, or the signature is forged`);
    else if (!signers.includes(key.name)) signers.push(key.name);
  }
  return { ok: signers.length >= required, signers, problems, required };
}
