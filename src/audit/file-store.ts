/**
 * The default AuditStore: an append-only JSON Lines file.
 *
 * Waiting for the disk (fdatasync can take milliseconds) goes through
 * fs.promises so it never blocks the gateway's event loop. The append itself
 * is a synchronous write(2) into the page cache (see appendBatch).
 */
import { createReadStream, writeSync } from 'node:fs';
import { open, readFile, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditStore } from './types.js';

const NEWLINE = 0x0a;
const TAIL_CHUNK = 64 * 1024;

export class FileAuditStore implements AuditStore {
  readonly location: string;
  private readonly fh: FileHandle;
  /** The file ends in a complete line that lacks its '\n' (e.g. appended by hand). */
  private needsNewline: boolean;
  /** Data written without fdatasync since the last sync; synced on close. */
  private dirty = false;
  private closed = false;

  private constructor(file: string, fh: FileHandle, needsNewline: boolean) {
    this.location = file;
    this.fh = fh;
    this.needsNewline = needsNewline;
  }

  /**
   * Open (creating with mode 0600 if missing) `file` for appending. The parent
   * directory must exist.
   */
  static async open(file: string): Promise<FileAuditStore> {
    await takeWriterLock(file);
    let fh: FileHandle;
    let created = false;
    // O_APPEND makes every write land at the current end of file, atomically
    // with respect to the offset, so the offset cannot drift from the file size.
    try {
      fh = await open(file, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL, 0o600);
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      fh = await open(file, constants.O_RDWR | constants.O_APPEND);
    }
    try {
      if (created) await syncDirectory(dirname(file));
      const { size } = await fh.stat();
      let needsNewline = false;
      if (size > 0) {
        const last = Buffer.alloc(1);
        await fh.read(last, 0, 1, size - 1);
        needsNewline = last[0] !== NEWLINE;
      }
      return new FileAuditStore(file, fh, needsNewline);
    } catch (err) {
      await fh.close().catch(() => {});
      await unlink(lockPath(file)).catch(() => {});
      throw err;
    }
  }

  /** Reads backwards from the end, so opening a large log stays O(last line). */
  async tail(): Promise<string | null> {
    const { size } = await this.fh.stat();
    if (size === 0) return null;
    // A trailing '\n' terminates the last line; it does not start an empty one.
    let end = size;
    const lastByte = Buffer.alloc(1);
    await this.fh.read(lastByte, 0, 1, size - 1);
    if (lastByte[0] === NEWLINE) end--;
    const chunks: Buffer[] = [];
    let pos = end;
    while (pos > 0) {
      const len = Math.min(TAIL_CHUNK, pos);
      const buf = Buffer.alloc(len);
      await readFully(this.fh, buf, pos - len);
      const nl = buf.lastIndexOf(NEWLINE);
      if (nl >= 0) {
        chunks.unshift(buf.subarray(nl + 1));
        break;
      }
      chunks.unshift(buf);
      pos -= len;
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /**
   * Callers must not overlap calls (AuditLog never does): lines from two
   * concurrent batches could otherwise interleave out of chain order.
   */
  async appendBatch(lines: string[], durable: boolean): Promise<void> {
    if (this.closed) throw new Error(`audit store ${this.location} is closed`);
    if (lines.length === 0) return;
    const text = (this.needsNewline ? '\n' : '') + lines.join('\n') + '\n';
    const buf = Buffer.from(text, 'utf8');
    // One write for the whole batch: this is what makes group commit cheap.
    // Synchronous on purpose: copying a few KB into the page cache takes a few
    // µs, while the thread-pool round trip of fh.write cost the relay ~40 µs of
    // CPU and a wake-up of latency per batch (every call waits for its
    // result record). Only fdatasync, which really waits for the disk, stays async.
    // write(2) may still write less than asked (e.g. on a nearly full disk),
    // so loop until everything is out or an error is thrown.
    let off = 0;
    while (off < buf.length) {
      const bytesWritten = writeSync(this.fh.fd, buf, off, buf.length - off, null);
      if (bytesWritten <= 0) throw new Error(`audit store ${this.location}: write made no progress`);
      off += bytesWritten;
    }
    this.needsNewline = false;
    if (durable) {
      // fdatasync rather than fsync: it still flushes the data and the new file
      // length (needed to read the records back), but skips pure metadata such
      // as mtime, saving a journal commit per batch on most filesystems.
      await this.fh.datasync();
      this.dirty = false;
    } else {
      this.dirty = true;
    }
  }

  lines(): AsyncIterable<string> {
    return readLines(this.location);
  }

  /** Syncs anything written in 'write' mode, so a clean shutdown is always durable. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.dirty) await this.fh.datasync();
    } finally {
      await this.fh.close();
      await unlink(lockPath(this.location)).catch(() => {});
    }
  }
}

const lockPath = (file: string) => `${file}.lock`;

/**
 * One writer per log: two gateways appending to one file would each chain
 * from the tail they read at start, forking the hash chain. The lock file
 * holds the writer's pid; a lock whose process is gone (a crash) is taken over.
 */
async function takeWriterLock(file: string): Promise<void> {
  const path = lockPath(file);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
      throw new Error(`another process (pid ${pid}) is writing the audit log ${file}; two writers would fork its hash chain. Stop that gateway, or start this one with another data directory (--data)`);
    }
    await unlink(path).catch(() => {});
  }
  throw new Error(`cannot take the writer lock ${path}; remove it if no gateway is running`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user — still a live writer.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The lines of a file, without their '\n'. A final line lacking its newline is
 * still yielded (the verifier decides whether it is a complete record).
 * Splits on the newline byte, not decoded text, so a multi-byte UTF-8
 * character split across read chunks is never mangled.
 */
export async function* readLines(file: string): AsyncGenerator<string> {
  const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
  let carry: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf(NEWLINE, start)) >= 0) {
      const piece = chunk.subarray(start, nl);
      if (carry.length > 0) {
        carry.push(piece);
        yield Buffer.concat(carry).toString('utf8');
        carry = [];
      } else {
        yield piece.toString('utf8');
      }
      start = nl + 1;
    }
    if (start < chunk.length) carry.push(chunk.subarray(start));
  }
  if (carry.length > 0) yield Buffer.concat(carry).toString('utf8');
}

async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesRead } = await fh.read(buf, off, buf.length - off, position + off);
    if (bytesRead === 0) throw new Error('audit file shrank while its tail was being read');
    off += bytesRead;
  }
}

/**
 * A new file's directory entry is only durable once the directory itself is
 * synced; without this a power loss could lose the whole file even though
 * every record in it was fdatasync'ed.
 */
async function syncDirectory(dir: string): Promise<void> {
  let dh: FileHandle | undefined;
  try {
    dh = await open(dir, 'r');
    await dh.sync();
  } catch (err) {
    // Some platforms (Windows) cannot open or sync a directory; nothing better to do there.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EACCES') throw err;
  } finally {
    await dh?.close();
  }
}
