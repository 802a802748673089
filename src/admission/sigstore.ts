/**
 * Offline verification of a Sigstore bundle over a server artifact (a local server script, an npm tarball).
 *
 * Package choice: @sigstore/verify 3.x (with @sigstore/bundle 4.x and @sigstore/protobuf-specs 0.5.x).
 * 3.x declares `node: ^20.17.0 || >=22.9.0`; 4.x dropped Node 20 (`^22.22.2 || ^24.15.0 || >=26`), and
 * Portcullis supports Node 20.
 *
 * Nothing here touches the network: the trusted root (trusted_root.json as Sigstore publishes it) comes from
 * the config, and the bundle carries its own transparency-log proof. What a bundle must show to pass:
 * - exactly the thresholds of @sigstore/verify's defaults: at least one transparency-log entry whose inclusion
 *   is proven against a log key in the trusted root (a signed checkpoint with a Merkle inclusion proof, or a
 *   signed entry timestamp), and that entry's body matches the bundle's signature and digest;
 * - at least one verified timestamp, at which the signing certificate was valid: the log entry's integrated
 *   time (counted only when its signed entry timestamp verifies, as Rekor v1 bundles carry), or an RFC 3161
 *   timestamp from a TSA in the trusted root (what Rekor v2 bundles, which have no signed entry timestamp, need);
 * - for a certificate: a chain to a CA in the trusted root and at least one SCT from a CT log in it, and the
 *   certificate's identity (SAN) and OIDC issuer matching the policy (both required: a Fulcio certificate
 *   alone says only that *someone* signed);
 * - for a public key: the key given in the policy;
 * - a signature over the artifact's bytes, so a changed artifact fails.
 *
 * Refused kinds:
 * - DSSE envelopes (attestations such as npm provenance): @sigstore/verify checks the envelope's signature but
 *   does not bind it to the artifact's bytes, so accepting one would admit any artifact.
 * - Ed25519 (and Ed448) signing keys: @sigstore/verify 3.x verifies message signatures with
 *   `crypto.verify(hashAlgorithm, …)`, which Node rejects for EdDSA keys (ERR_OSSL_INVALID_DIGEST) and
 *   @sigstore/core turns into "signature verification failed". Such a bundle could never verify, so it is
 *   refused up front with a message that says why, rather than reported as a bad signature.
 */
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import {
  ValidationError,
  bundleFromJSON,
  isBundleWithDsseEnvelope,
  isBundleWithPublicKey,
  type Bundle,
  type BundleWithMessageSignature,
} from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial, type TrustMaterial } from '@sigstore/verify';
import { spkiPin } from './spki.js';

export interface SigstorePolicy {
  /**
   * Certificate identity (SAN: e-mail or URI) the signer must have: exact, or `/regex/` matched against the
   * whole SAN. Required for certificate-signed bundles.
   */
  identity?: string;
  /** OIDC issuer recorded in the certificate (e.g. `https://token.actions.githubusercontent.com`). Required for certificate-signed bundles. */
  issuer?: string;
  /** Verify with this public key (PEM, SPKI) instead of a Fulcio certificate. */
  publicKey?: string;
}

export interface VerifiedArtifact {
  /** The certificate SAN, or `key:sha256/BASE64` (SPKI digest) for a public-key bundle. */
  signer: string;
  /** Transparency-log index of the first log entry. */
  logIndex?: string;
  /** When the transparency log integrated the entry, as its signed entry timestamp vouches; absent without one. */
  integratedTime?: Date;
}

export type ArtifactSignatureErrorCode =
  | 'SIGSTORE_BUNDLE_MALFORMED'
  | 'SIGSTORE_TRUSTED_ROOT_MALFORMED'
  | 'SIGSTORE_BUNDLE_UNSUPPORTED'
  | 'SIGSTORE_POLICY_INCOMPLETE'
  | 'SIGSTORE_VERIFICATION_FAILED'
  | 'SIGSTORE_SIGNER_MISMATCH';

export class ArtifactSignatureError extends Error {
  override readonly name = 'ArtifactSignatureError';
  constructor(
    readonly code: ArtifactSignatureErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}

export async function verifyArtifactBundle(input: {
  artifact: Uint8Array;
  bundle: unknown;
  trustedRoot: unknown;
  policy: SigstorePolicy;
}): Promise<VerifiedArtifact> {
  const { policy } = input;
  const bundle = parseBundle(input.bundle);
  const keyFromPolicy = policy.publicKey === undefined ? undefined : parsePublicKey(policy.publicKey);
  const signingKey = checkKeyMode(bundle, policy, keyFromPolicy);
  refuseEdDSA(signingKey);

  const trustMaterial = parseTrustedRoot(input.trustedRoot, keyFromPolicy);
  let signer;
  try {
    // Defaults on purpose: one proven log entry, one SCT, one verified timestamp (see the file comment).
    const verifier = new Verifier(trustMaterial);
    signer = verifier.verify(toSignedEntity(bundle, Buffer.from(input.artifact)));
  } catch (err) {
    throw new ArtifactSignatureError(
      'SIGSTORE_VERIFICATION_FAILED',
      `the Sigstore bundle does not verify for this artifact against the configured trusted root (${describe(err)}). ` +
        'The artifact may have changed since it was signed, or it was signed by a CA, key or log the trusted root does not list: ' +
        'check that the artifact is the released one and that the trusted root is the one its signer used.',
      { cause: err },
    );
  }

  const tlogEntry = bundle.verificationMaterial.tlogEntries[0];
  const result: VerifiedArtifact = {
    signer: keyFromPolicy ? `key:${spkiPin(keyFromPolicy)}` : checkIdentity(signer.identity, policy),
  };
  if (tlogEntry) {
    result.logIndex = tlogEntry.logIndex;
    // Without a signed entry timestamp the log vouches for no time (Rekor v2 entries carry none).
    if (tlogEntry.inclusionPromise) result.integratedTime = new Date(Number(tlogEntry.integratedTime) * 1000);
  }
  return result;
}

function parseBundle(json: unknown): BundleWithMessageSignature {
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(json);
  } catch (err) {
    throw new ArtifactSignatureError(
      'SIGSTORE_BUNDLE_MALFORMED',
      `the Sigstore bundle is not a valid bundle (${err instanceof ValidationError ? `missing or invalid: ${err.fields.join(', ')}` : describe(err)}). ` +
        'Give the JSON written by `cosign sign-blob --bundle` or sigstore-js, unchanged.',
      { cause: err },
    );
  }
  if (isBundleWithDsseEnvelope(bundle)) {
    throw new ArtifactSignatureError(
      'SIGSTORE_BUNDLE_UNSUPPORTED',
      'the Sigstore bundle holds a DSSE envelope (an attestation such as provenance), which is not bound to the artifact bytes. ' +
        'Sign the artifact itself, e.g. `cosign sign-blob --bundle artifact.sigstore.json ARTIFACT`.',
    );
  }
  // isBundleWithDsseEnvelope narrows the content, not the bundle type.
  return bundle as BundleWithMessageSignature;
}

function parsePublicKey(pem: string): KeyObject {
  try {
    return createPublicKey(pem);
  } catch (err) {
    throw new ArtifactSignatureError(
      'SIGSTORE_POLICY_INCOMPLETE',
      `the policy's publicKey is not a PEM public key (${describe(err)}). Give the signer's public key as PEM (-----BEGIN PUBLIC KEY-----).`,
      { cause: err },
    );
  }
}

/** The bundle and the policy must agree on how the signer is identified; returns the key that signed. */
function checkKeyMode(bundle: BundleWithMessageSignature, policy: SigstorePolicy, keyFromPolicy: KeyObject | undefined): KeyObject {
  if (isBundleWithPublicKey(bundle)) {
    if (!keyFromPolicy) {
      throw new ArtifactSignatureError(
        'SIGSTORE_POLICY_INCOMPLETE',
        'the Sigstore bundle was signed with a long-lived key, not a certificate, and the policy names no publicKey. Add the signer\'s public key (PEM) to the policy.',
      );
    }
    return keyFromPolicy;
  }
  if (keyFromPolicy) {
    throw new ArtifactSignatureError(
      'SIGSTORE_SIGNER_MISMATCH',
      'the policy expects a signature by its publicKey, but the Sigstore bundle carries a certificate. ' +
        'Remove publicKey and set identity and issuer for certificate (keyless) signing, or have the artifact signed with that key.',
    );
  }
  if (!policy.identity || !policy.issuer) {
    throw new ArtifactSignatureError(
      'SIGSTORE_POLICY_INCOMPLETE',
      'a certificate-signed Sigstore bundle needs both identity and issuer in the policy: without them anyone able to obtain a certificate could sign. ' +
        'Set them to the signer\'s certificate identity and OIDC issuer (as given to `cosign verify-blob --certificate-identity … --certificate-oidc-issuer …`).',
    );
  }
  const material = bundle.verificationMaterial.content;
  const leaf =
    material.$case === 'certificate' ? material.certificate : material.$case === 'x509CertificateChain' ? material.x509CertificateChain.certificates[0] : undefined;
  try {
    return new X509Certificate(leaf?.rawBytes ?? Buffer.alloc(0)).publicKey;
  } catch (err) {
    throw new ArtifactSignatureError(
      'SIGSTORE_BUNDLE_MALFORMED',
      `the Sigstore bundle's signing certificate cannot be read (${describe(err)}). Give the bundle unchanged as the signer produced it.`,
      { cause: err },
    );
  }
}

function refuseEdDSA(key: KeyObject): void {
  if (key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448') {
    throw new ArtifactSignatureError(
      'SIGSTORE_BUNDLE_UNSUPPORTED',
      `the Sigstore bundle is signed with an ${key.asymmetricKeyType} key, and message signatures by EdDSA keys cannot be verified by the Sigstore library this version uses (@sigstore/verify 3.x). ` +
        'Sign the artifact with an ECDSA P-256 or RSA key (cosign\'s default), or with keyless (certificate) signing.',
    );
  }
}

function parseTrustedRoot(json: unknown, keyFromPolicy: KeyObject | undefined): TrustMaterial {
  if (typeof json !== 'object' || json === null || !String((json as { mediaType?: unknown }).mediaType).startsWith('application/vnd.dev.sigstore.trustedroot')) {
    throw new ArtifactSignatureError(
      'SIGSTORE_TRUSTED_ROOT_MALFORMED',
      'the trusted root is not a Sigstore trusted_root.json (its mediaType is not application/vnd.dev.sigstore.trustedroot+json). ' +
        'Give the trusted_root.json of the Sigstore instance that signed the artifact (for the public instance, targets/trusted_root.json of Sigstore\'s TUF repository).',
    );
  }
  try {
    const root = TrustedRoot.fromJSON(json);
    // The configured key is trusted at any time: its validity is the operator's decision, made in the config.
    return toTrustMaterial(root, keyFromPolicy && (() => ({ publicKey: keyFromPolicy, validFor: () => true })));
  } catch (err) {
    throw new ArtifactSignatureError(
      'SIGSTORE_TRUSTED_ROOT_MALFORMED',
      `the trusted root cannot be read (${describe(err)}). Give the trusted_root.json unchanged as Sigstore publishes it.`,
      { cause: err },
    );
  }
}

function checkIdentity(identity: { subjectAlternativeName?: string; extensions?: { issuer?: string } } | undefined, policy: SigstorePolicy): string {
  const san = identity?.subjectAlternativeName ?? '';
  const issuer = identity?.extensions?.issuer;
  if (!identityMatches(policy.identity!, san)) {
    throw new ArtifactSignatureError(
      'SIGSTORE_SIGNER_MISMATCH',
      `the artifact was signed by "${san}", not by the policy's identity ${policy.identity}. ` +
        'If this signer is legitimate (e.g. a moved release workflow), update the policy\'s identity; otherwise do not run this artifact.',
    );
  }
  if (issuer !== policy.issuer) {
    throw new ArtifactSignatureError(
      'SIGSTORE_SIGNER_MISMATCH',
      `the signer's identity was issued by "${issuer ?? '(none)'}", not by the policy's issuer ${policy.issuer}. ` +
        'The same name from another identity provider is another signer: do not run this artifact unless the policy\'s issuer is wrong.',
    );
  }
  return san;
}

function identityMatches(expected: string, san: string): boolean {
  const regex = /^\/(.+)\/$/.exec(expected);
  if (!regex) return expected === san;
  let pattern: RegExp;
  try {
    // Anchored: an unanchored pattern like /@example\.com/ would also admit "attacker@example.com.evil".
    pattern = new RegExp(`^(?:${regex[1]})$`);
  } catch (err) {
    throw new ArtifactSignatureError('SIGSTORE_POLICY_INCOMPLETE', `the policy's identity ${expected} is not a valid regular expression (${describe(err)}). Fix the pattern or give the exact identity.`, { cause: err });
  }
  return pattern.test(san);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
