import { accessSync, constants, existsSync, realpathSync, statSync } from 'node:fs';
import { basename, delimiter, dirname, isAbsolute, resolve, sep } from 'node:path';

/**
 * What a server needs to run, found from how it is launched: the command's
 * binary (and its install prefix), the interpreter the gateway itself runs on,
 * and the package directory of a script named in its args. All read-only;
 * kept small and explicit, and every mount is listed in the audit record.
 */

/** System directories mounted read-only for every sandbox (what dynamically linked programs need). */
export const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/**
 * The few host files under /etc a runtime needs (TLS roots, the dynamic linker
 * cache, time zone). Not /etc/passwd, /etc/hosts or /etc/resolv.conf: the
 * sandbox gets its own.
 */
export const ETC_FILES = ['/etc/ssl', '/etc/ca-certificates', '/etc/pki', '/etc/alternatives', '/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d', '/etc/localtime'];

/** Files whose presence marks a package root. */
const PACKAGE_MARKERS = ['package.json', 'pyproject.toml', 'setup.py', 'requirements.txt', 'Cargo.toml', 'go.mod'];
/** Args with these extensions are scripts: their package directory is mounted. Other file args are data and are not. */
const CODE_FILE = /\.(c?js|mjs|ts|mts|cts|py|rb|pl|php|jar|sh|lua)$/;

export interface RuntimeMount {
  path: string;
  why: string;
}

export interface Runtime {
  /** Absolute path of the command, as it will be executed inside. */
  command: string;
  args: string[];
  mounts: RuntimeMount[];
  /** PATH for inside the sandbox. */
  path: string;
}

export interface RuntimeInput {
  command: string;
  args: readonly string[];
  /** Where relative paths are resolved (the server's cwd, or the gateway's). */
  cwd: string;
  /** The PATH the command is looked up on (the server's env, else the gateway's). */
  searchPath: string;
  home: string;
  /** The gateway's own node binary (for the egress forwarder and `#!/usr/bin/env node`). */
  execPath: string;
}

export function underSystemDir(p: string): boolean {
  return SYSTEM_DIRS.some((d) => p === d || p.startsWith(d + '/'));
}

export function contains(parent: string, child: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

/**
 * Directories that are never mounted whole as an inferred runtime directory:
 * the root, the user's home and its ancestors, and shared scratch space (a
 * script in /tmp gets itself mounted, not all of /tmp).
 */
export function tooBroad(dir: string, home: string): boolean {
  if (['/', '/tmp', '/var/tmp', '/dev/shm', '/etc', '/var', '/home', '/root', '/run', '/proc', '/sys', '/dev', '/opt', '/srv', '/mnt', '/media'].includes(dir)) return true;
  return contains(dir, home);
}

export function resolveCommand(command: string, cwd: string, searchPath: string): string {
  if (command.includes('/')) {
    const p = resolve(cwd, command);
    if (!existsSync(p)) throw new Error(`command ${p} does not exist`);
    return p;
  }
  for (const dir of searchPath.split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const p = resolve(dir, command);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      // keep looking
    }
  }
  throw new Error(`command "${command}" is not on PATH (${searchPath}); give an absolute path`);
}

/** The directory that holds a script's code and dependencies. */
export function packageDirOf(file: string, home: string): string {
  const real = realpathSync(file);
  // Inside node_modules: the outermost node_modules holds the package and everything it can require.
  const nm = real.split(sep).indexOf('node_modules');
  if (nm > 0) {
    const dir = real.split(sep).slice(0, nm + 1).join(sep);
    if (!tooBroad(dir, home)) return dir;
  }
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    if (tooBroad(dir, home)) break;
    if (PACKAGE_MARKERS.some((m) => existsSync(resolve(dir, m)))) {
      // A workspace package whose dependencies are hoisted: mount the nearest ancestor with node_modules.
      if (existsSync(resolve(dir, 'package.json')) && !existsSync(resolve(dir, 'node_modules'))) {
        for (let up = dirname(dir); !tooBroad(up, home); up = dirname(up)) {
          if (existsSync(resolve(up, 'node_modules'))) return up;
          if (up === dirname(up)) break;
        }
      }
      return dir;
    }
    if (dir === dirname(dir)) break;
  }
  const own = dirname(real);
  return tooBroad(own, home) ? real : own;
}

/** An install prefix (…/bin/x → …) when that is a sensible unit to mount, else the binary itself. */
function prefixOf(binary: string, home: string): string {
  const dir = dirname(binary);
  if (basename(dir) === 'bin') {
    const prefix = dirname(dir);
    if (!tooBroad(prefix, home)) return prefix;
  }
  return binary;
}

export function inferRuntime(input: RuntimeInput): Runtime {
  const mounts: RuntimeMount[] = [];
  const add = (path: string, why: string) => {
    if (underSystemDir(path) || mounts.some((m) => contains(m.path, path))) return;
    for (let i = mounts.length - 1; i >= 0; i--) if (contains(path, mounts[i].path)) mounts.splice(i, 1);
    mounts.push({ path, why });
  };

  const command = resolveCommand(input.command, input.cwd, input.searchPath);
  const realCommand = realpathSync(command);
  if (!underSystemDir(command)) add(command, 'the command');
  if (!underSystemDir(realCommand)) {
    add(CODE_FILE.test(realCommand) || realCommand.includes(`${sep}node_modules${sep}`) ? packageDirOf(realCommand, input.home) : prefixOf(realCommand, input.home), 'the command\'s install directory');
  }
  const node = realpathSync(input.execPath);
  if (!underSystemDir(node)) add(prefixOf(node, input.home), 'the Node.js runtime');

  const args = input.args.map((arg) => {
    if (arg.startsWith('-') || !(arg.includes('/') || CODE_FILE.test(arg))) return arg;
    const p = resolve(input.cwd, arg);
    let file = false;
    try {
      file = statSync(p).isFile();
    } catch {
      return arg;
    }
    if (!file || !CODE_FILE.test(p)) return arg;
    add(packageDirOf(p, input.home), `the package directory of ${arg}`);
    // Inside, the working directory is the sandbox's home: make the script path absolute.
    return p;
  });

  const pathDirs = [dirname(command), dirname(node), '/usr/local/bin', '/usr/bin', '/bin'];
  return { command, args, mounts, path: [...new Set(pathDirs)].join(':') };
}
