import { realpathSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Whether uid/gid (with no supplementary groups) can reach and use a path,
 * from the permission bits alone. Used when the gateway runs as root and the
 * sandbox as an unprivileged uid, so a declared directory that uid cannot use
 * is refused at start with a fix, instead of failing obscurely inside.
 * Returns a problem description, or undefined when access is fine.
 */
export function accessProblem(path: string, uid: number, gid: number, want: 'read' | 'write'): string | undefined {
  let real: string;
  try {
    real = realpathSync(path);
  } catch (error) {
    return `${path} does not exist (${(error as NodeJS.ErrnoException).code}); create it or remove it from the list`;
  }
  const bits = (st: { uid: number; gid: number; mode: number }) => (st.uid === uid ? (st.mode >> 6) & 7 : st.gid === gid ? (st.mode >> 3) & 7 : st.mode & 7);
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    const st = statSync(dir);
    if ((bits(st) & 1) === 0) return `uid ${uid} cannot enter ${dir} (mode ${(st.mode & 0o777).toString(8)}), so it cannot reach ${path}`;
    if (dir === dirname(dir)) break;
  }
  const st = statSync(real);
  const need = (want === 'write' ? 2 : 0) | 4 | (st.isDirectory() ? 1 : 0);
  if ((bits(st) & need) !== need) return `uid ${uid} cannot ${want} ${path} (owner ${st.uid}, mode ${(st.mode & 0o777).toString(8)})`;
  return undefined;
}
