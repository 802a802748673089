import { createHash, type KeyObject } from 'node:crypto';

/** `sha256/BASE64` (HPKP style) of a public key's DER SubjectPublicKeyInfo: one format for TLS pins and signer keys. */
export function spkiPin(key: KeyObject): string {
  return `sha256/${createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('base64')}`;
}
