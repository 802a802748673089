import { createHash, generateKeyPairSync, sign, type KeyObject, type KeyPairKeyObjectResult } from 'node:crypto';
import { initializeCA, initializeCTLog, initializeTLog, initializeTSA } from '@sigstore/mock';

/*
 * A private Sigstore made in the test: a Fulcio-like CA with a CT log, and a Rekor-like transparency log whose
 * entries carry both a signed entry timestamp and a signed checkpoint with a Merkle inclusion proof. Bundles are
 * built as cosign writes them (v0.3, hashedrekord 0.0.1) and the trusted root as Sigstore publishes it.
 */
export const ISSUER_OID = '1.3.6.1.4.1.57264.1.8';
export const WORKFLOW = 'https://github.com/acme/weather-mcp/.github/workflows/release.yml@refs/tags/v1.2.0';
export const GITHUB = 'https://token.actions.githubusercontent.com';
export const ARTIFACT = new TextEncoder().encode('#!/usr/bin/env node\nconsole.log("weather server");\n');

export const ecKeyPair = (): KeyPairKeyObjectResult => generateKeyPairSync('ec', { namedCurve: 'P-256' });
export const b64 = (bytes: ArrayBufferView): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
export const spki = (key: KeyObject): Buffer => key.export({ type: 'spki', format: 'der' });
export const pem = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString();

export type CA = Awaited<ReturnType<typeof initializeCA>>;
export type TLog = Awaited<ReturnType<typeof initializeTLog>>;
/** What the mock's log returns for an entry (its declared type is Rekor's loose API schema). */
export interface LoggedEntry {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification: { signedEntryTimestamp: string; inclusionProof: { logIndex: number; rootHash: string; treeSize: number; hashes: string[]; checkpoint: string } };
}
export interface Instance {
  ca: CA;
  ctlog: Awaited<ReturnType<typeof initializeCTLog>>;
  tlog: TLog;
}
export type TSA = Awaited<ReturnType<typeof initializeTSA>>;

export async function newInstance(): Promise<Instance> {
  const ctlog = await initializeCTLog(ecKeyPair());
  return {
    ca: await initializeCA(ecKeyPair(), ctlog),
    ctlog,
    tlog: await initializeTLog('https://rekor.test', ecKeyPair()),
  };
}

export function trustedRootOf(instance: Instance, tsa?: TSA): object {
  const start = { start: new Date(Date.now() - 3_600_000).toISOString() };
  const log = (key: ArrayBufferView, keyId: ArrayBufferView, baseUrl: string) => ({
    baseUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: b64(key), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: start },
    logId: { keyId: b64(keyId) },
  });
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [log(instance.tlog.publicKey, createHash('sha256').update(instance.tlog.publicKey).digest(), 'https://rekor.test')],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: 'https://fulcio.test',
        certChain: { certificates: [{ rawBytes: b64(instance.ca.rootCertificate) }] },
        validFor: start,
      },
    ],
    ctlogs: [log(instance.ctlog.publicKey, instance.ctlog.logID, 'https://ctfe.test')],
    timestampAuthorities: tsa
      ? [
          {
            subject: { organization: 'sigstore.mock', commonName: 'tsa' },
            uri: 'https://tsa.test',
            certChain: { certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }] },
            validFor: start,
          },
        ]
      : [],
  };
}

export type Material = { certificate: { rawBytes: string } } | { publicKey: { hint: string } };

/** Logs a hashedrekord entry for the signature and wraps everything in a v0.3 message-signature bundle. */
export async function bundleOf(tlog: TLog, artifact: Uint8Array, signature: Buffer, material: Material, verifierPem: string) {
  const digest = createHash('sha256').update(artifact).digest();
  const logged = await tlog.log({
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: digest.toString('hex') } },
      signature: { content: b64(signature), publicKey: { content: Buffer.from(verifierPem).toString('base64') } },
    },
  });
  const entry = Object.values(logged)[0] as LoggedEntry;
  const proof = entry.verification.inclusionProof;
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      ...material,
      tlogEntries: [
        {
          logIndex: String(entry.logIndex),
          logId: { keyId: Buffer.from(entry.logID, 'hex').toString('base64') },
          kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
          integratedTime: String(entry.integratedTime),
          inclusionPromise: { signedEntryTimestamp: entry.verification.signedEntryTimestamp },
          inclusionProof: {
            logIndex: String(proof.logIndex),
            rootHash: Buffer.from(proof.rootHash, 'hex').toString('base64'),
            treeSize: String(proof.treeSize),
            hashes: proof.hashes,
            checkpoint: { envelope: proof.checkpoint },
          },
          canonicalizedBody: entry.body,
        },
      ],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: b64(digest) }, signature: b64(signature) },
  };
}

export async function keylessBundle(instance: Instance, artifact: Uint8Array, identity = { san: WORKFLOW, issuer: GITHUB }) {
  const signer = ecKeyPair();
  const cert = await instance.ca.issueCertificate({
    publicKey: new Uint8Array(spki(signer.publicKey)),
    subjectAltName: identity.san,
    extensions: [{ oid: ISSUER_OID, value: identity.issuer }],
  });
  const certPem = `-----BEGIN CERTIFICATE-----\n${b64(cert)}\n-----END CERTIFICATE-----\n`;
  return bundleOf(instance.tlog, artifact, sign('sha256', artifact, signer.privateKey), { certificate: { rawBytes: b64(cert) } }, certPem);
}

export async function keyedBundle(instance: Instance, artifact: Uint8Array, signer: KeyPairKeyObjectResult) {
  // EdDSA signs the message itself; the others sign its SHA-256 digest.
  const algorithm = signer.publicKey.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  const signature = sign(algorithm, artifact, signer.privateKey);
  return bundleOf(instance.tlog, artifact, signature, { publicKey: { hint: 'release-key' } }, pem(signer.publicKey));
}
