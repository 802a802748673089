/**
 * `portcullis pin`: connects to each configured server (sandboxed, as the
 * gateway would run it), records what it is and what it offers, and turns
 * that into a candidate lock plus a diff a reviewer can read.
 */
import type { Prompt, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import { isStdioServer, type Config } from '../config/schema.js';
import { firstLine, observeServers } from '../gateway/observe.js';
import { describeArtifact } from './artifact.js';
import { launchOf, lockEntry, readCa, verifySigstore, type ServerSnapshot } from './control.js';
import { LOCK_VERSION, type Lock, type LockedServer, type ServerChange } from './lock.js';
import { checkOffers, type PoisonFinding } from './poisoning.js';

export interface PinOutcome {
  /** The servers as they are now, for the candidate lock (poisoned definitions left out). */
  servers: Record<string, LockedServer>;
  /** Every poisoning finding; the high ones were refused (left out of the lock). */
  findings: PoisonFinding[];
  /** Servers that could not be pinned, with why. */
  failed: { server: string; error: string }[];
}

export interface PinOptions {
  /** Only these servers (default: all configured). */
  only?: readonly string[];
  /** The TLS key pin of a remote server ("sha256/…"), when it is served over https. */
  spkiOf?(url: string, ca?: string): Promise<string>;
}

/**
 * Pins each server on its own, so one that fails is reported rather than
 * sinking the rest; then checks all of them together for poisoning, since
 * shadowing and duplicate names are about one server next to another.
 */
export async function pinServers(config: Config, options: PinOptions = {}): Promise<PinOutcome> {
  const names = options.only ?? Object.keys(config.servers);
  const out: PinOutcome = { servers: {}, findings: [], failed: [] };
  // What runs is described (and its signature checked) before anything is started: an unverifiable launch is not run at all.
  const described = new Map<string, { launch: LockedServer['launch']; artifact?: LockedServer['artifact'] }>();
  await Promise.all(
    names.map(async (name) => {
      const server = config.servers[name];
      try {
        const launch = launchOf(server);
        if (!isStdioServer(server) && server.url.startsWith('https:') && options.spkiOf) {
          Object.assign(launch, { spki: [await options.spkiOf(server.url, server.ca ? await readCa(name, server.ca) : undefined)] });
        }
        const artifact = isStdioServer(server) ? await describeArtifact(server) : undefined;
        // A signed artifact is pinned only once its signature verifies, so a review starts from a vouched-for file.
        if (isStdioServer(server) && server.sigstore) await verifySigstore(name, server, artifact, config.admission.sigstore_trusted_root);
        described.set(name, { launch, ...(artifact ? { artifact } : {}) });
      } catch (error) {
        out.failed.push({ server: name, error: firstLine(error) });
      }
    }),
  );
  const snapshots = new Map<string, ServerSnapshot>();
  for (const [name, o] of await observeServers(config, [...described.keys()])) {
    if ('error' in o) out.failed.push({ server: name, error: o.error });
    else snapshots.set(name, o.snapshot);
  }
  out.findings = checkOffers(
    [...snapshots].map(([server, snapshot]) => ({
      server,
      instructions: snapshot.info.instructions,
      tools: snapshot.tools as Tool[],
      prompts: snapshot.prompts as Prompt[],
      resourceTemplates: snapshot.resourceTemplates as ResourceTemplate[],
    })),
  );
  const refused = (server: string, kind: PoisonFinding['kind'], name: string) => out.findings.some((f) => f.severity === 'high' && f.server === server && f.kind === kind && f.name === name);
  for (const [server, snapshot] of snapshots) {
    if (refused(server, 'instructions', server)) {
      out.failed.push({ server, error: 'its instructions look poisoned (see the findings above); it cannot be pinned' });
      continue;
    }
    const { launch, artifact } = described.get(server)!;
    out.servers[server] = lockEntry(launch, artifact, snapshot, (kind, def) => refused(server, kind, String(def.name)));
  }
  return out;
}

/** The lock to write: servers not re-pinned keep their entries; servers no longer configured are dropped. */
export function mergeLock(config: Config, current: Lock | undefined, pinned: Record<string, LockedServer>): Lock {
  const servers: Record<string, LockedServer> = {};
  for (const name of Object.keys(config.servers)) {
    const entry = pinned[name] ?? current?.servers[name];
    if (entry) servers[name] = entry;
  }
  return { lockfile: LOCK_VERSION, servers, signatures: [] };
}

// ---- the review ----------------------------------------------------------------

const SIGN = { added: '+', removed: '-', changed: '~' } as const;

function show(value: unknown, width = 160): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  // Hidden characters are what a poisoned description hides behind: make every one visible.
  const visible = (text ?? 'undefined').replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]|[\u{e0000}-\u{e007f}]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
  return visible.length > width ? `${visible.slice(0, width)}… (${visible.length} chars)` : visible;
}

/** A reviewer's view of what a new lock changes, one line per fact, hidden characters made visible. */
export function renderChanges(changes: readonly ServerChange[]): string {
  if (changes.length === 0) return 'No changes: the servers offer exactly what the lock pins.\n';
  const lines: string[] = [];
  for (const c of changes) {
    lines.push(`${SIGN[c.kind]} server ${c.server}${c.kind === 'changed' ? '' : ` (${c.kind === 'added' ? 'new' : 'no longer configured'})`}`);
    for (const f of c.fields) lines.push(`    ${f.field}: ${show(f.before)}`, `    ${' '.repeat(f.field.length)}→ ${show(f.after)}`);
    for (const item of c.items) {
      const label = item.kind.replace('_', ' ');
      lines.push(`  ${SIGN[item.change]} ${label} ${item.name}${item.change === 'added' ? ' (new)' : item.change === 'removed' ? ' (removed)' : ''}`);
      for (const f of item.fields) {
        lines.push(`      ${f.path}`);
        if ('before' in f) lines.push(`        - ${show(f.before)}`);
        if ('after' in f) lines.push(`        + ${show(f.after)}`);
      }
    }
  }
  return lines.join('\n') + '\n';
}
