/**
 * Run-time admission: the gateway's side of portcullis.lock. Before a server
 * starts, its lock is verified and its artifact re-hashed; at initialize its
 * identity is compared; every tool, prompt and resource template it lists is
 * compared by canonical digest with the pinned definition. A changed
 * definition is quarantined (hidden, calls refused, one alert with the diff),
 * a new one hidden until pinned. Nothing here is ever accepted silently: in
 * development a server missing from the lock is pinned on first use, loudly,
 * into the data directory, and from then on held to that pin.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Implementation } from '@modelcontextprotocol/sdk/types.js';
import type { AuditEvent } from '../audit/types.js';
import { isStdioServer, type Config, type ServerConfig, type StdioServerConfig } from '../config/schema.js';
import type { ProcessSpec } from '../transports/stdio-process.js';
import { analyseLaunch } from './launch.js';
import { artifactMismatch, describeArtifact, unverifiable } from './artifact.js';
import { definitionChanges, definitionDigest, entryFor, readLock, serialiseLock, textDigest, LOCK_VERSION, type Artifact, type DefinitionEntry, type Lock, type LockedLaunch, type LockedServer } from './lock.js';
import { loadTrustedKeys, verifyLock } from './signing.js';
import { AdmissionError, AdmissionRefusal } from './refusal.js';
import { checkInstructions, checkItem, poisonedReason, type OtherServers } from './poisoning.js';

export type ItemKind = 'tool' | 'prompt' | 'resource_template';

export type AdmissionCode = 'TOOL_DEFINITION_CHANGED' | 'TOOL_NOT_PINNED' | 'TOOL_POISONED' | 'DEFINITION_CHANGED' | 'NOT_PINNED';

export interface AdmissionVerdict {
  code: AdmissionCode;
  reason: string;
}

/** What a server offered at one connection, as `pin` and first use record it. */
export interface ServerSnapshot {
  info: { serverInfo: Implementation; instructions?: string };
  tools: object[];
  prompts: object[];
  resourceTemplates: object[];
}

export interface AdmissionOptions {
  config: Config;
  dataDir: string;
  audit(event: AuditEvent): Promise<void>;
  log: Logger;
  /** The tools of the other servers, so a definition that instructs about one of them (shadowing) is caught. */
  otherServers?(server: string): OtherServers[];
}

export const FIRST_USE_LOCK = 'first-use.lock';

/** The launch a lock records for a configured server. */
export function launchOf(server: ServerConfig): LockedLaunch {
  return isStdioServer(server) ? { command: server.command, args: [...server.args], ...(server.cwd ? { cwd: server.cwd } : {}) } : { url: server.url };
}

export function sameLaunch(a: LockedLaunch, b: LockedLaunch): boolean {
  // The TLS pin is what the lock adds to a URL; the config cannot state it.
  const strip = (l: LockedLaunch) => ('url' in l ? { url: l.url } : l);
  return definitionDigest(strip(a)) === definitionDigest(strip(b));
}

export function identityOf(info: ServerSnapshot['info']): LockedServer['identity'] {
  return { name: info.serverInfo.name, version: info.serverInfo.version, ...(info.instructions ? { instructions: textDigest(info.instructions) } : {}) };
}

const KEYS = { tool: 'tools', prompt: 'prompts', resource_template: 'resource_templates' } as const;
/** The key a definition is pinned under: its name, or a template's URI template. */
export const itemName = (kind: ItemKind, d: Record<string, unknown>) => String(kind === 'resource_template' ? d.uriTemplate : d.name);

/** A lock entry for what a server offers now, without the definitions `refuse` turns away. */
export function lockEntry(launch: LockedLaunch, artifact: Artifact | undefined, snapshot: ServerSnapshot, refuse: (kind: ItemKind, definition: Record<string, unknown>) => boolean): LockedServer {
  const pick = (kind: ItemKind, items: object[]): Record<string, DefinitionEntry> => {
    const out: Record<string, DefinitionEntry> = {};
    for (const item of items) {
      const def = item as Record<string, unknown>;
      if (!refuse(kind, def)) out[itemName(kind, def)] = entryFor(def);
    }
    return out;
  };
  return {
    launch,
    ...(artifact ? { artifact } : {}),
    identity: identityOf(snapshot.info),
    tools: pick('tool', snapshot.tools),
    prompts: pick('prompt', snapshot.prompts),
    resource_templates: pick('resource_template', snapshot.resourceTemplates),
  };
}

export class AdmissionControl {
  #lock?: Lock;
  #lockPath?: string;
  /** Pins taken on first use (development), persisted in the data directory. */
  #firstUse: Lock = { lockfile: LOCK_VERSION, servers: {}, signatures: [] };
  /** Artifacts as hashed at the latest launch, for a first-use pin. */
  readonly #launched = new Map<string, Artifact>();
  readonly #verdicts = new Map<string, AdmissionVerdict | null>();
  /** The verdict on the latest definition listed under each name, for prompts fetched by name. */
  readonly #latest = new Map<string, AdmissionVerdict | null>();
  readonly #alerted = new Set<string>();
  /** Private CAs of remote servers, read once at load. */
  readonly #cas = new Map<string, string>();

  constructor(private readonly options: AdmissionOptions) {}

  get production(): boolean {
    return this.options.config.mode === 'production';
  }

  get #firstUsePolicy(): 'pin' | 'refuse' {
    return this.production ? 'refuse' : (this.options.config.admission.first_use ?? 'pin');
  }

  /**
   * Reads and verifies the lock and checks every configured server against it;
   * throws AdmissionError saying what to do when the gateway must not start.
   */
  async load(): Promise<void> {
    const { config, log } = this.options;
    const a = config.admission;
    this.#lockPath = a.lock;
    this.#lock = a.lock ? await readLock(a.lock).catch((e: Error) => { throw new AdmissionError(e.message); }) : undefined;
    if (!this.#lock && this.production) {
      throw new AdmissionError(`production mode needs a signed lock${a.lock ? ` at ${a.lock}` : ' (admission.lock)'}, and there is none: record the servers with "portcullis pin", review, then sign with "portcullis sign --key <your .key>"`);
    }
    if (this.#lock) await this.#verifySignatures(this.#lock);
    if (!this.production) {
      // A damaged first-use pin must not quietly become "never seen before": that would re-trust whatever runs now.
      const file = join(this.options.dataDir, FIRST_USE_LOCK);
      const earlier = await readLock(file).catch((e: Error) => { throw new AdmissionError(`${e.message}; it holds the development pins taken on first use — delete it to pin every unlisted server afresh`); });
      if (earlier) this.#firstUse = earlier;
    }

    for (const [name, server] of Object.entries(config.servers)) {
      if (!isStdioServer(server) && server.ca) this.#cas.set(name, await readCa(name, server.ca).catch((e: Error) => { throw new AdmissionError(e.message); }));
      const pinned = this.#lock?.servers[name];
      if (pinned) {
        if (!sameLaunch(pinned.launch, launchOf(server))) {
          throw new AdmissionError(`servers.${name} is not launched the way the lock pinned it (pinned ${JSON.stringify(pinned.launch)}, configured ${JSON.stringify(launchOf(server))}); if you changed it on purpose, review and re-pin with "portcullis pin"${this.production ? ', then sign' : ''}`);
        }
        const why = this.production && pinned.artifact ? unverifiable(pinned.artifact) : undefined;
        if (why) throw new AdmissionError(`servers.${name}: production mode refuses this server: ${why}`);
        if (this.production && !isStdioServer(server) && server.url.startsWith('https:') && !('spki' in pinned.launch && pinned.launch.spki?.length)) {
          throw new AdmissionError(`servers.${name}: the lock records no TLS key pin for this https server, so production mode cannot tell it from an impostor; re-pin it with "portcullis pin"`);
        }
        if (this.production && isStdioServer(server) && !pinned.artifact) throw new AdmissionError(`servers.${name}: the lock records no artifact hash for this stdio server, so production mode cannot verify what it runs; re-pin it with "portcullis pin"`);
        continue;
      }
      if (this.#firstUsePolicy === 'refuse') {
        throw new AdmissionError(`server "${name}" is not in the lock${this.#lockPath ? ` ${this.#lockPath}` : ''}, and ${this.production ? 'production mode' : 'admission.first_use: refuse'} starts only pinned servers; pin it with "portcullis pin"${this.production ? ' and sign the lock' : ''}`);
      }
      const earlier = this.#firstUse.servers[name];
      if (earlier && !sameLaunch(earlier.launch, launchOf(server))) {
        // The operator changed the command line; what it now runs gets pinned afresh, loudly.
        log.warn({ server: name }, `server "${name}" is launched differently from its first-use pin; it will be pinned again on first use`);
        delete this.#firstUse.servers[name];
      }
    }
  }

  async #verifySignatures(lock: Lock): Promise<void> {
    const { trusted_keys, required_signatures } = this.options.config.admission;
    const names = Object.entries(trusted_keys);
    if (names.length === 0) {
      this.options.log.warn(`${this.#lockPath}: no admission.trusted_keys are configured, so the lock's signatures are not checked (development only)`);
      return;
    }
    const trusted = await loadTrustedKeys(trusted_keys).catch((e: Error) => { throw new AdmissionError(e.message); });
    const result = verifyLock(lock, trusted, required_signatures);
    if (!result.ok) {
      const have = result.signers.length === 0 ? 'no valid signature' : `valid signatures by ${result.signers.join(', ')} only`;
      throw new AdmissionError(
        `${this.#lockPath} needs signatures by ${required_signatures} of the trusted keys (${names.map(([n]) => n).join(', ')}) and has ${have}` +
          (result.problems.length ? `:\n  - ${result.problems.join('\n  - ')}` : '') +
          `\nReview what the lock admits ("portcullis verify-lock" shows it), then sign it with "portcullis sign --key <your .key>"; never start a gateway on a lock nobody vouched for.`,
      );
    }
  }

  /** The pin a server is held to: the signed lock first, then (development) its first-use pin. */
  entry(server: string): LockedServer | undefined {
    return this.#lock?.servers[server] ?? this.#firstUse.servers[server];
  }

  /**
   * The fetch a remote server is reached with: one that checks the pinned TLS
   * key on every connection when the lock pins one, else one that trusts the
   * server's private CA if it has one; undefined for the default fetch.
   */
  async fetchFor(name: string): Promise<typeof fetch | undefined> {
    const launch = this.entry(name)?.launch;
    const pins = launch && 'url' in launch ? launch.spki : undefined;
    const ca = this.#cas.get(name);
    if (!pins?.length && ca === undefined) return undefined;
    // undici is loaded only by gateways that pin a remote server's key or trust a private CA.
    const { pinnedFetch, privateCaFetch } = await import('./tls-pin.js');
    return pins?.length ? pinnedFetch(pins, ca ? { ca } : {}) : privateCaFetch(ca!);
  }

  /** Whether this server still has to be pinned on first use once it has started. */
  awaitsFirstUse(server: string): boolean {
    return !this.entry(server) && this.#firstUsePolicy === 'pin';
  }

  /**
   * Runs before every launch of a stdio server (restarts too): the bytes about
   * to run must hash to the pinned artifact. In production a package launcher
   * is also told to stay offline, so nothing is fetched from a registry.
   */
  async beforeLaunch(name: string, server: StdioServerConfig, spec: ProcessSpec): Promise<ProcessSpec> {
    const pinned = this.entry(name)?.artifact;
    let current: Artifact | undefined;
    try {
      current = await describeArtifact(server);
    } catch (error) {
      if (pinned || this.production) throw new AdmissionRefusal(`server "${name}" cannot be verified before launch: ${(error as Error).message}`);
      this.options.log.warn({ server: name }, `server "${name}": what it launches cannot be hashed (${(error as Error).message}); its first-use pin will hold its tools but not its files`);
    }
    if (server.sigstore) {
      const signer = await verifySigstore(name, server, current, this.options.config.admission.sigstore_trusted_root).catch((e: Error) => e);
      if (signer instanceof Error) {
        const reason = `server "${name}" is not started: ${signer.message}`;
        await this.options.audit({ type: 'alert', server: name, code: 'ARTIFACT_SIGNATURE_INVALID', reason }).catch(() => {});
        throw new AdmissionRefusal(reason);
      }
    }
    if (pinned && current) {
      const why = artifactMismatch(pinned, current);
      if (why) {
        const reason = `server "${name}" is not started: ${why}. If this update is intended, review it and re-pin with "portcullis pin"${this.production ? ', then sign the lock' : ''}`;
        await this.options.audit({ type: 'alert', server: name, code: 'ARTIFACT_CHANGED', reason, detail: { pinned, current } }).catch(() => {});
        throw new AdmissionRefusal(reason);
      }
    }
    if (current) this.#launched.set(name, current);
    if (this.production && analyseLaunch(server.command, server.args)?.ecosystem === 'npm') {
      return { ...spec, env: { ...spec.env, npm_config_offline: 'true' } };
    }
    return spec;
  }

  /** Checked right after initialize: a server presenting another identity than pinned is not started. */
  admitServer(name: string, info: ServerSnapshot['info']): string | undefined {
    // Instructions reach every client's model as the server's own words: poisoned ones keep the server out.
    const poisoned = info.instructions ? poisonedReason(checkInstructions(info.instructions, { server: name, otherServers: this.options.otherServers?.(name) ?? [] })) : undefined;
    if (poisoned) {
      const reason = `server "${name}" is not started: its instructions look poisoned (${poisoned})`;
      void this.options.audit({ type: 'alert', server: name, code: 'INSTRUCTIONS_POISONED', reason }).catch(() => {});
      return reason;
    }
    const pinned = this.entry(name)?.identity;
    if (!pinned) return undefined;
    const now = identityOf(info);
    const diffs: string[] = [];
    if (now.name !== pinned.name) diffs.push(`name "${pinned.name}" → "${now.name}"`);
    if (now.version !== pinned.version) diffs.push(`version ${pinned.version} → ${now.version}`);
    if (now.instructions !== pinned.instructions) diffs.push('its instructions changed');
    if (diffs.length === 0) return undefined;
    const reason = `server "${name}" is not started: it identifies differently from its pin (${diffs.join(', ')}); a clone or an unreviewed update. If the update is intended, review it and re-pin with "portcullis pin"`;
    void this.options.audit({ type: 'alert', server: name, code: 'SERVER_IDENTITY_CHANGED', reason, detail: { pinned, presented: now } }).catch(() => {});
    return reason;
  }

  /**
   * Development only: a server the lock does not know is pinned as it is now
   * (minus anything poisoned), persisted, logged and audited — never silently.
   */
  async pinOnFirstUse(name: string, server: ServerConfig, offer: ServerSnapshot): Promise<void> {
    // Poisoned definitions are left out: refused, and alerted when listed.
    const entry = lockEntry(launchOf(server), this.#launched.get(name), offer, (kind, def) => this.#poisoned(name, kind, def) !== undefined);
    this.#firstUse = { ...this.#firstUse, servers: { ...this.#firstUse.servers, [name]: entry } };
    this.#verdicts.clear();
    this.#latest.clear();
    await mkdir(this.options.dataDir, { recursive: true });
    await writeFile(join(this.options.dataDir, FIRST_USE_LOCK), serialiseLock(this.#firstUse), { mode: 0o600 });
    const reason = `server "${name}" is not in the lock; pinned on first use (development mode): ${Object.keys(entry.tools).length} tools, ${Object.keys(entry.prompts).length} prompts, ${Object.keys(entry.resource_templates).length} resource templates. Changes from now on are quarantined; review and pin it properly with "portcullis pin"`;
    this.options.log.warn({ server: name }, reason);
    await this.options.audit({ type: 'admission', server: name, code: 'PINNED_ON_FIRST_USE', reason, detail: { identity: entry.identity, ...(entry.artifact ? { artifact: entry.artifact } : {}) } });
  }

  /** Why a definition must not be admitted (hidden instructions, hidden characters, shadowing…), or undefined. */
  #poisoned(server: string, kind: ItemKind, definition: Record<string, unknown>): string | undefined {
    return poisonedReason(checkItem(kind, definition, { server, otherServers: this.options.otherServers?.(server) ?? [] }));
  }

  /**
   * Why a listed definition may not be shown or used, or undefined. Decided
   * once per distinct definition (by digest), so the call path pays a map
   * lookup; the first refusal of each definition writes one alert.
   */
  verdict(server: string, kind: ItemKind, definition: Record<string, unknown>, digest = definitionDigest(definition)): AdmissionVerdict | undefined {
    const name = itemName(kind, definition);
    const key = `${server}\0${kind}\0${name}\0${digest}`;
    const cached = this.#verdicts.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const v = this.#decide(server, kind, name, definition, digest);
    // A server that varies its definitions on every list must not grow this without bound.
    if (this.#verdicts.size >= 10_000) this.#verdicts.clear();
    this.#verdicts.set(key, v ?? null);
    this.#latest.set(`${server}\0${kind}\0${name}`, v ?? null);
    if (v && !this.#alerted.has(key)) {
      this.#alerted.add(key);
      const pinned = this.entry(server)?.[KEYS[kind]][name];
      const detail = { kind, name, digest, ...(pinned ? { pinned: pinned.digest, changes: definitionChanges(pinned.definition, definition) } : { definition }) };
      this.options.log.warn({ server, [kind]: name, code: v.code }, v.reason);
      void this.options.audit({ type: 'alert', server, ...(kind === 'tool' ? { tool: name } : {}), decision: 'deny', code: v.code, reason: v.reason, detail }).catch(() => {});
    }
    return v;
  }

  #decide(server: string, kind: ItemKind, name: string, definition: Record<string, unknown>, digest: string): AdmissionVerdict | undefined {
    const label = kind === 'resource_template' ? 'resource template' : kind;
    const entry = this.entry(server);
    if (!entry) {
      // Only reachable before a first-use pin has been taken, or with first_use: refuse.
      return { code: kind === 'tool' ? 'TOOL_NOT_PINNED' : 'NOT_PINNED', reason: `server "${server}" is not pinned, so none of its definitions are trusted yet; pin it with "portcullis pin"` };
    }
    const pinned = entry[KEYS[kind]][name];
    const poisoned = this.#poisoned(server, kind, definition);
    const quarantined: AdmissionVerdict | undefined = poisoned === undefined ? undefined : { code: kind === 'tool' ? 'TOOL_POISONED' : 'DEFINITION_CHANGED', reason: `${label} "${name}" of server "${server}" is quarantined: its definition looks poisoned (${poisoned})` };
    if (!pinned) {
      // Left out of the pin because it looked poisoned: say so, not merely "new".
      if (quarantined) return quarantined;
      return { code: kind === 'tool' ? 'TOOL_NOT_PINNED' : 'NOT_PINNED', reason: `${label} "${name}" of server "${server}" was not there when the server was pinned (a new or renamed ${label}); it stays hidden until an operator reviews and pins it with "portcullis pin"` };
    }
    if (pinned.digest !== digest) {
      const fields = definitionChanges(pinned.definition, definition).map((c) => c.path || '/').join(', ');
      return { code: kind === 'tool' ? 'TOOL_DEFINITION_CHANGED' : 'DEFINITION_CHANGED', reason: `${label} "${name}" of server "${server}" changed since it was pinned (${fields}); it is quarantined until an operator reviews the change and re-pins with "portcullis pin"` };
    }
    // Pinned as it is, yet poisoned by today's rules (pinned before a rule existed): still quarantined.
    return quarantined;
  }

  /** A prompt fetched by name: refused if its last listed definition was refused, or if the pin does not have it. */
  promptVerdict(server: string, name: string): AdmissionVerdict | undefined {
    const entry = this.entry(server);
    if (entry && !entry.prompts[name]) return this.#decide(server, 'prompt', name, { name }, '');
    return this.#latest.get(`${server}\0prompt\0${name}`) ?? undefined;
  }
}

export async function readCa(server: string, path: string): Promise<string> {
  return readFile(path, 'utf8').catch((e: Error) => {
    throw new Error(`servers.${server}.ca: cannot read ${path} (${e.message}); give the PEM file of the CA that signs the server's certificate`);
  });
}

/**
 * Checks a server's Sigstore bundle over the file it runs, offline against
 * the configured trusted root; returns the signer. A bundle signs one file,
 * so an npm package (pinned by its file tree) cannot be checked this way.
 */
export async function verifySigstore(name: string, server: StdioServerConfig, artifact: Artifact | undefined, trustedRootPath: string | undefined): Promise<string> {
  const s = server.sigstore!;
  if (!trustedRootPath) throw new Error(`servers.${name}.sigstore needs admission.sigstore_trusted_root`);
  if (artifact?.kind !== 'file') {
    throw new Error(`servers.${name}.sigstore: a Sigstore bundle signs one file, and this server runs ${artifact ? `a ${artifact.kind} artifact` : 'something that cannot be hashed'}; sign the script or binary it runs, or rely on the lock's package hash`);
  }
  const readJson = async (path: string, what: string) =>
    JSON.parse(await readFile(path, 'utf8').catch((e: Error) => { throw new Error(`cannot read ${what} ${path} (${e.message})`); })) as unknown;
  const publicKey = s.public_key && !s.public_key.includes('-----BEGIN') ? await readFile(s.public_key, 'utf8') : s.public_key;
  // The Sigstore libraries are loaded only when a server is signed.
  const { verifyArtifactBundle } = await import('./sigstore.js');
  const verified = await verifyArtifactBundle({
    artifact: await readFile(artifact.path),
    bundle: await readJson(s.bundle, 'the Sigstore bundle'),
    trustedRoot: await readJson(trustedRootPath, 'the Sigstore trusted root'),
    policy: { ...(s.identity ? { identity: s.identity } : {}), ...(s.issuer ? { issuer: s.issuer } : {}), ...(publicKey ? { publicKey } : {}) },
  });
  return verified.signer;
}
