/**
 * portcullis.lock: what each approved server is (its launch and artifact, or
 * its URL and TLS key), who it says it is at initialize, and every definition
 * it offers (tools, prompts, resource templates) with a canonical digest.
 * Definitions are stored whole so a later change can be shown as a diff, not
 * just as "the hash differs".
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import canonicalizeModule from 'canonicalize';
import diff from 'microdiff';
import { z } from 'zod';

// canonicalize ships CommonJS typings that NodeNext sees as a namespace.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string;

export const LOCK_VERSION = 1;

const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'a digest is "sha256:" and 64 hex digits');

const artifactSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('npm'),
    name: z.string(),
    version: z.string(),
    /** The registry's integrity string from the lockfile that installed it, when one was found. */
    integrity: z.string().optional(),
    /** Digest over the installed package's files (its own node_modules excluded). */
    tree: digest,
    dir: z.string(),
  }),
  z.strictObject({ kind: z.literal('file'), path: z.string(), sha256: digest }),
  z.strictObject({ kind: z.literal('pypi'), name: z.string(), version: z.string().optional() }),
  z.strictObject({ kind: z.literal('docker'), image: z.string(), version: z.string().optional() }),
]);

const definitionEntry = z.strictObject({ digest, definition: z.record(z.string(), z.unknown()) });

const lockedServerSchema = z.strictObject({
  launch: z.union([
    z.strictObject({ command: z.string(), args: z.array(z.string()), cwd: z.string().optional() }),
    z.strictObject({ url: z.string(), spki: z.array(z.string()).optional() }),
  ]),
  artifact: artifactSchema.optional(),
  identity: z.strictObject({ name: z.string(), version: z.string(), instructions: digest.optional() }),
  tools: z.record(z.string(), definitionEntry),
  prompts: z.record(z.string(), definitionEntry).default({}),
  resource_templates: z.record(z.string(), definitionEntry).default({}),
});

const signatureSchema = z.strictObject({
  key: z.string().describe('Key id: the first 16 hex digits of the SHA-256 of the public key (SPKI DER).'),
  signature: z.string().describe('Ed25519 signature over the signing payload, base64.'),
});

export const lockSchema = z.strictObject({
  lockfile: z.literal(LOCK_VERSION, { error: `this build reads lockfile version ${LOCK_VERSION}; re-create the lock with "portcullis pin"` }),
  servers: z.record(z.string(), lockedServerSchema),
  signatures: z.array(signatureSchema).default([]),
});

export type Lock = z.output<typeof lockSchema>;
export type LockedServer = z.output<typeof lockedServerSchema>;
export type Artifact = z.output<typeof artifactSchema>;
export type LockSignature = z.output<typeof signatureSchema>;
export type DefinitionEntry = z.output<typeof definitionEntry>;
export type LockedLaunch = LockedServer['launch'];

export class LockError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'LockError';
  }
}

/** sha256 over the RFC 8785 canonical JSON of a value: key order and number spelling cannot change it. */
export function definitionDigest(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalize(value)).digest('hex')}`;
}

export function textDigest(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

export function entryFor(definition: object): DefinitionEntry {
  return { digest: definitionDigest(definition), definition: definition as Record<string, unknown> };
}

export function parseLock(text: string, file: string): Lock {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new LockError(file, `is not JSON (${(error as Error).message}); re-create it with "portcullis pin"`);
  }
  const parsed = lockSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LockError(file, `${issue.path.join('.') || '(top level)'}: ${issue.message}; re-create it with "portcullis pin" rather than editing it`);
  }
  for (const [server, entry] of Object.entries(parsed.data.servers)) {
    for (const [kind, map] of [['tools', entry.tools], ['prompts', entry.prompts], ['resource_templates', entry.resource_templates]] as const) {
      for (const [name, e] of Object.entries(map)) {
        // A digest that does not match its definition means the file was edited by hand.
        if (definitionDigest(e.definition) !== e.digest) throw new LockError(file, `servers.${server}.${kind}.${name}: the digest does not match the definition; the lock was edited by hand — re-create it with "portcullis pin"`);
      }
    }
  }
  return parsed.data;
}

export async function readLock(file: string): Promise<Lock | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LockError(file, `cannot be read (${(error as Error).message})`);
  }
  return parseLock(text, file);
}

/** Stable, reviewable text: keys sorted, two-space indent, one trailing newline. */
export function serialiseLock(lock: Lock): string {
  return JSON.stringify(JSON.parse(canonicalize(lock)), null, 2) + '\n';
}

/** What a signature covers: the whole lock except its signatures, canonical, under a domain tag. */
export function signingPayload(lock: Lock): Buffer {
  const { signatures: _signatures, ...body } = lock;
  return Buffer.from(`portcullis-lock-v${LOCK_VERSION}\n${canonicalize(body)}`, 'utf8');
}

// ---- differences ---------------------------------------------------------------

export interface FieldChange {
  /** JSON pointer into the definition, e.g. /description or /inputSchema/properties/path/type. */
  path: string;
  before?: unknown;
  after?: unknown;
}

/** Leaf-level changes between two definitions, for alerts and the pin review. */
export function definitionChanges(before: unknown, after: unknown): FieldChange[] {
  if (typeof before !== 'object' || typeof after !== 'object' || !before || !after) return [{ path: '', before, after }];
  return diff(before as Record<string, unknown>, after as Record<string, unknown>).map((d) => ({
    path: '/' + d.path.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/'),
    ...('oldValue' in d ? { before: d.oldValue } : {}),
    ...('value' in d ? { after: d.value } : {}),
  }));
}

export type ChangeKind = 'added' | 'removed' | 'changed';

export interface ServerChange {
  server: string;
  kind: ChangeKind;
  /** What differs at server level: launch, artifact, identity. */
  fields: { field: 'launch' | 'artifact' | 'identity'; before?: unknown; after?: unknown }[];
  items: { kind: 'tool' | 'prompt' | 'resource_template'; name: string; change: ChangeKind; fields: FieldChange[] }[];
}

/** Everything that differs between the current lock and a candidate, server by server. */
export function diffLocks(current: Lock | undefined, next: Lock): ServerChange[] {
  const out: ServerChange[] = [];
  const names = new Set([...Object.keys(current?.servers ?? {}), ...Object.keys(next.servers)]);
  for (const server of [...names].sort()) {
    const a = current?.servers[server];
    const b = next.servers[server];
    const change: ServerChange = { server, kind: !a ? 'added' : !b ? 'removed' : 'changed', fields: [], items: [] };
    for (const field of ['launch', 'artifact', 'identity'] as const) {
      if (a && b && definitionDigest(a[field] ?? null) !== definitionDigest(b[field] ?? null)) change.fields.push({ field, before: a[field], after: b[field] });
    }
    for (const [kind, key] of [['tool', 'tools'], ['prompt', 'prompts'], ['resource_template', 'resource_templates']] as const) {
      const before = a?.[key] ?? {};
      const after = b?.[key] ?? {};
      for (const name of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
        const x = before[name];
        const y = after[name];
        if (x && y && x.digest === y.digest) continue;
        change.items.push({ kind, name, change: !x ? 'added' : !y ? 'removed' : 'changed', fields: x && y ? definitionChanges(x.definition, y.definition) : [] });
      }
    }
    if (change.kind !== 'changed' || change.fields.length > 0 || change.items.length > 0) out.push(change);
  }
  return out;
}
