/**
 * The persisted approval queue: one directory of small JSON files under the
 * data dir, shared by the gateway, `portcullis approvals` (another process) and
 * the HTTP admin API.
 *
 * Every state change is the exclusive creation of a new file, never an
 * overwrite, so no locks are needed even across processes:
 *   <id>.request.json   written once by the gateway when a call is held
 *   <id>.decision.json  the first approve/deny wins (link(2) refuses a second)
 *   <id>.consumed.json  the single use of an approval (a replay finds it there)
 *   <id>.output.json    for a quarantined output: the result withheld until it is released
 * Each file is written to a temp file, fsynced, then published with link(2),
 * so a reader sees either nothing or the complete file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, link, lstat, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import canonicalizeModule from 'canonicalize';
import {
  ApprovalError,
  type ApprovalConsumedRecord,
  type ApprovalDecisionRecord,
  type ApprovalRequestRecord,
  type ApprovalStatus,
  type ApprovalView,
  type Approver,
} from './types.js';
import { syncDir } from '../util/durable-fs.js';

// canonicalize is CommonJS typed as `export default`; at runtime the default import is the function.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

export const APPROVALS_DIR = 'approvals';

type FileKind = 'request' | 'decision' | 'consumed' | 'output';

const ID = /^ap_[A-Za-z0-9_-]{16}$/;

/** A fresh approval id: `ap_` and 96 random bits. */
export function newApprovalId(): string {
  return `ap_${randomBytes(12).toString('base64url')}`;
}

export function isApprovalId(id: unknown): id is string {
  return typeof id === 'string' && ID.test(id);
}

/** SHA-256 (hex) of the RFC 8785 canonical JSON of a call's arguments: key order and spacing do not matter, values do. */
export function argumentsHash(args: unknown): string {
  return createHash('sha256')
    .update(canonicalize(args ?? {}) ?? 'null', 'utf8')
    .digest('hex');
}

/** The status a request has now, from its files. */
export function statusOf(request: ApprovalRequestRecord, decision: ApprovalDecisionRecord | undefined, consumed: ApprovalConsumedRecord | undefined, now = Date.now()): ApprovalStatus {
  if (consumed) return 'consumed';
  if (decision?.decision === 'denied') return 'denied';
  if (now >= Date.parse(request.expiresAt)) return 'expired';
  return decision ? 'approved' : 'pending';
}

export class ApprovalStore {
  readonly dir: string;
  #ready?: Promise<void>;

  constructor(
    dataDir: string,
    private readonly now: () => number = Date.now,
  ) {
    this.dir = path.join(dataDir, APPROVALS_DIR);
  }

  /**
   * Persists a new request; the id must be fresh. A withheld output is written
   * first, so a request that can be seen (and released) always has it.
   */
  async create(request: ApprovalRequestRecord, output?: Record<string, unknown>): Promise<void> {
    this.#checkId(request.id);
    await this.#ensureDir();
    if (output !== undefined && !(await this.#publish(this.#file(request.id, 'output'), output))) {
      throw new Error(`approval id ${request.id} already exists`);
    }
    if (!(await this.#publish(this.#file(request.id, 'request'), request))) {
      throw new Error(`approval id ${request.id} already exists`);
    }
  }

  /** The request with its status, or undefined when there is no such request. */
  async get(id: string): Promise<ApprovalView | undefined> {
    if (!isApprovalId(id)) return undefined;
    const request = await this.#read<ApprovalRequestRecord>(id, 'request');
    if (!request) return undefined;
    const [decision, consumed] = await Promise.all([this.#read<ApprovalDecisionRecord>(id, 'decision'), this.#read<ApprovalConsumedRecord>(id, 'consumed')]);
    return { ...request, status: statusOf(request, decision, consumed, this.now()), ...(decision ? { decision } : {}), ...(consumed ? { consumed } : {}) };
  }

  /** Requests, oldest first; by default only those still pending or approved-and-unused. */
  async list(options: { all?: boolean } = {}): Promise<ApprovalView[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const ids = names.filter((n) => n.endsWith('.request.json')).map((n) => n.slice(0, -'.request.json'.length)).filter(isApprovalId);
    const views = (await Promise.all(ids.map((id) => this.get(id)))).filter((v): v is ApprovalView => v !== undefined);
    return views.filter((v) => options.all || v.status === 'pending' || v.status === 'approved').sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /**
   * Records a decision. Refused when the request does not exist, has expired
   * (no decision by the deadline is a denial) or was already decided: the
   * first decision wins, even between processes.
   */
  async decide(id: string, decision: 'approved' | 'denied', by: Approver): Promise<ApprovalView> {
    this.#checkId(id);
    const view = await this.get(id);
    if (!view) throw new ApprovalError('not_found', `no approval request ${id}`);
    if (view.decision) throw new ApprovalError('already_decided', `approval request ${id} was already ${view.decision.decision} by ${view.decision.approver} at ${view.decision.decidedAt}`);
    if (view.status === 'expired') throw new ApprovalError('expired', `approval request ${id} expired at ${view.expiresAt}; no decision by then counts as denied, and the agent must ask again`);
    const record: ApprovalDecisionRecord = {
      v: 1,
      id,
      decision,
      approver: by.name,
      channel: by.channel,
      ...(by.reason ? { reason: by.reason } : {}),
      decidedAt: new Date(this.now()).toISOString(),
      ...(by.evidence ? { evidence: by.evidence } : {}),
    };
    if (!(await this.#publish(this.#file(id, 'decision'), record))) {
      const other = await this.#read<ApprovalDecisionRecord>(id, 'decision');
      throw new ApprovalError('already_decided', `approval request ${id} was already ${other?.decision ?? 'decided'} by ${other?.approver ?? 'another approver'}`);
    }
    return (await this.get(id))!;
  }

  /** The withheld output of a quarantine request, or undefined when there is none. */
  async output(id: string): Promise<Record<string, unknown> | undefined> {
    if (!isApprovalId(id)) return undefined;
    return this.#read<Record<string, unknown>>(id, 'output');
  }

  /** Where a quarantine request's withheld output is kept (for approvers to read). */
  outputPath(id: string): string {
    this.#checkId(id);
    return this.#file(id, 'output');
  }

  /**
   * Marks an approval used. Returns false if it was used already (a replay);
   * the exclusive create makes this atomic between concurrent retries.
   */
  async consume(id: string, session: string): Promise<boolean> {
    this.#checkId(id);
    const record: ApprovalConsumedRecord = { v: 1, id, consumedAt: new Date(this.now()).toISOString(), session };
    return this.#publish(this.#file(id, 'consumed'), record);
  }

  #checkId(id: string): void {
    // Ids become file names: anything else could walk out of the directory.
    if (!isApprovalId(id)) throw new ApprovalError('invalid_id', `"${String(id).slice(0, 80)}" is not an approval id (they look like ap_ followed by 16 letters, digits, "_" or "-")`);
  }

  #file(id: string, kind: FileKind): string {
    return path.join(this.dir, `${id}.${kind}.json`);
  }

  async #read<T>(id: string, kind: FileKind): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(this.#file(id, kind), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new Error(`approval file ${this.#file(id, kind)} is corrupt (not JSON); move it away to continue`);
    }
  }

  #ensureDir(): Promise<void> {
    this.#ready ??= (async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const info = await lstat(this.dir);
      if (!info.isDirectory()) throw new Error(`${this.dir} exists but is not a directory`);
      if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) await chmod(this.dir, 0o700);
    })().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  /** Writes `value` to `target` unless it exists; false if it did. */
  async #publish(target: string, value: unknown): Promise<boolean> {
    await this.#ensureDir();
    const tmp = path.join(this.dir, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(tmp, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      // Filesystems without hard links: an exclusive create is still first-writer-wins.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') return writeExclusive(target, value);
      throw error;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    await syncDir(this.dir);
    return true;
  }
}

async function writeExclusive(target: string, value: unknown): Promise<boolean> {
  let handle;
  try {
    handle = await open(target, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}
