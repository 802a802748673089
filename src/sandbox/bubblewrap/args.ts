import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { ETC_FILES, SYSTEM_DIRS, contains } from './runtime.js';

export interface BwrapMount {
  path: string;
  mode: 'ro' | 'rw';
  why: string;
}

export interface BwrapPlan {
  /** Host paths shown at the same path inside. */
  mounts: BwrapMount[];
  /** Host paths covered over (empty tmpfs for a directory, /dev/null for a file) because a mount contains them. */
  hide: { path: string; directory: boolean }[];
  /** Files the gateway made for this sandbox (passwd, hosts, the egress socket...), read-only at `dest`. */
  files: { src: string; dest: string }[];
  home: string;
  tmpBytes: number;
  chdir: string;
  hostname: string;
  /** The command line run inside (after bwrap's own options). */
  command: string[];
}

/**
 * bubblewrap's command line for a plan. The root is an empty tmpfs that ends
 * up read-only; everything visible is listed here, in an order where a parent
 * is mounted before anything inside it.
 */
export function bwrapArgs(plan: BwrapPlan): string[] {
  const a: string[] = [
    // New user, PID, IPC, UTS, network and (where the kernel has it) cgroup namespaces.
    '--unshare-all',
    '--unshare-user',
    // No nested user namespaces: they are the usual doorway to kernel attack surface.
    '--disable-userns',
    // The server dies with the gateway; a new session stops it from pushing input into the gateway's terminal (TIOCSTI).
    '--die-with-parent',
    '--new-session',
    // Only meaningful if bwrap itself is privileged; bwrap always sets no_new_privs.
    '--cap-drop', 'ALL',
    '--hostname', plan.hostname,
  ];
  a.push(...systemArgs());
  for (const f of ETC_FILES) if (existsSync(f)) a.push('--ro-bind', f, f);
  a.push('--proc', '/proc', '--dev', '/dev');
  // Every writable scratch area is a size-limited tmpfs: tmpfs is RAM, and unbounded it would be a way to exhaust the host's.
  a.push('--size', String(plan.tmpBytes), '--tmpfs', '/dev/shm');
  a.push('--size', String(plan.tmpBytes), '--perms', '1777', '--tmpfs', '/tmp');
  a.push('--size', String(plan.tmpBytes), '--perms', '0700', '--tmpfs', plan.home);

  const ordered = [...plan.mounts].sort((x, y) => depth(x.path) - depth(y.path) || (x.mode === y.mode ? 0 : x.mode === 'ro' ? -1 : 1));
  for (const m of ordered) a.push(m.mode === 'rw' ? '--bind' : '--ro-bind', m.path, m.path);
  for (const h of plan.hide) {
    if (!plan.mounts.some((m) => contains(m.path, h.path))) continue;
    if (h.directory) a.push('--size', '4096', '--perms', '0000', '--tmpfs', h.path, '--remount-ro', h.path);
    else a.push('--ro-bind', '/dev/null', h.path);
  }
  for (const f of plan.files) a.push('--ro-bind', f.src, f.dest);
  a.push('--remount-ro', '/dev', '--remount-ro', '/');
  a.push('--chdir', plan.chdir, '--', ...plan.command);
  return a;
}

function depth(p: string): number {
  return p.split('/').filter(Boolean).length;
}

/** The system directories as on the host: read-only binds, and the same symlinks where /usr is merged. */
export function systemArgs(): string[] {
  const a: string[] = [];
  for (const dir of SYSTEM_DIRS) {
    let st;
    try {
      st = lstatSync(dir);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) a.push('--symlink', readlinkSync(dir), dir);
    else if (st.isDirectory()) a.push('--ro-bind', dir, dir);
  }
  return a;
}
