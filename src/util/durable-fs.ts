import { open } from 'node:fs/promises';

/**
 * fsyncs a directory so a file just created or renamed in it survives a power
 * loss (the file's own fsync does not cover its directory entry).
 */
export async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not every platform can fsync a directory (e.g. Windows); durability is best effort there.
  }
}
