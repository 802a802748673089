import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** test/snapshots in the source tree (tests run from dist/test). */
export const SNAPSHOT_DIR = fileURLToPath(new URL('../../../test/snapshots/', import.meta.url));

/**
 * Compares text with test/snapshots/<name>. UPDATE_SNAPSHOTS=1 rewrites the
 * file instead; a missing snapshot is written on first run (and fails under CI).
 */
export async function matchSnapshot(name: string, actual: string): Promise<void> {
  const file = join(SNAPSHOT_DIR, name);
  if (process.env.UPDATE_SNAPSHOTS === '1') {
    await mkdir(SNAPSHOT_DIR, { recursive: true });
    await writeFile(file, actual, 'utf8');
    return;
  }
  let expected: string;
  try {
    expected = await readFile(file, 'utf8');
  } catch {
    assert.ok(!process.env.CI, `snapshot ${file} is missing; run UPDATE_SNAPSHOTS=1 npm test and commit it`);
    await mkdir(SNAPSHOT_DIR, { recursive: true });
    await writeFile(file, actual, 'utf8');
    return;
  }
  assert.equal(actual, expected, `output differs from snapshot ${file}; if the change is intended, run UPDATE_SNAPSHOTS=1 npm test and review the diff`);
}
