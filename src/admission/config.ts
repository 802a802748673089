/** The `admission:` section of the config: which lock admits servers and whose signatures it needs. */
import { z } from 'zod';

export const admissionConfigSchema = z
  .strictObject({
    lock: z
      .string()
      .min(1)
      .optional()
      .describe('The lock file written by "portcullis pin". Default: portcullis.lock beside the config file (none for a config built in code). Relative paths are resolved from the config file\'s directory.'),
    trusted_keys: z
      .record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, 'name a key with letters, digits, ".", "@", "_" or "-"'), z.string().min(1))
      .default({})
      .describe('Signer name → Ed25519 public key (a .pub file from "portcullis keygen", relative to the config file, or the PEM text). Only signatures by these keys count.'),
    required_signatures: z.number().int().min(1).max(16).default(1).describe('How many distinct trusted keys must have signed the lock (k of n).'),
    sigstore_trusted_root: z
      .string()
      .min(1)
      .optional()
      .describe('Sigstore trusted_root.json (relative to the config file) that servers\' sigstore bundles are verified against, offline.'),
    first_use: z
      .enum(['pin', 'refuse'])
      .optional()
      .describe('A server the lock does not list: "pin" records what it offers at its first connection, loudly, in the data directory (development default); "refuse" does not start it (production always refuses).'),
  })
  .prefault({})
  .describe('Server admission: only servers whose launch, artifact, identity and definitions match the lock are started and listed.');

export type AdmissionConfig = z.output<typeof admissionConfigSchema>;

/** servers.<name>.sigstore: a signature over the server's script or binary, checked before every launch. */
export const serverSigstoreSchema = z
  .strictObject({
    bundle: z.string().min(1).describe('Sigstore bundle (.sigstore.json, e.g. from cosign sign-blob --bundle) over the file the server runs; relative to the config file.'),
    identity: z.string().min(1).optional().describe('Certificate identity (SAN) the signer must have: exact, or /regex/ matching the whole identity.'),
    issuer: z.string().min(1).optional().describe('OIDC issuer of the signer\'s certificate, e.g. https://token.actions.githubusercontent.com.'),
    public_key: z.string().min(1).optional().describe('Verify with this ECDSA or RSA public key (PEM file or text) instead of a certificate identity.'),
  })
  .refine((s) => s.public_key !== undefined || (s.identity !== undefined && s.issuer !== undefined), 'give identity and issuer (keyless signing), or public_key')
  .optional()
  .describe('Require a Sigstore signature over the server\'s script or binary, verified offline against admission.sigstore_trusted_root before every launch.');

export const ADMISSION_CONFIG_KEYS = ['admission', 'lock', 'trusted_keys', 'required_signatures', 'first_use', 'sigstore_trusted_root', 'sigstore', 'bundle', 'identity', 'issuer', 'public_key'];
