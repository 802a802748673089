/**
 * What a stdio server's command line actually runs, reduced to bytes that can
 * be hashed: the installed npm package (its whole file tree, since an entry
 * script imports the rest), a local script or binary, or — for launchers that
 * fetch at run time (uvx, docker) — only a name and version, which production
 * mode refuses because nothing local can be verified.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, lstat, readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { StdioServerConfig } from '../config/schema.js';
import { analyseLaunch } from './launch.js';
import type { Artifact } from './lock.js';

export class ArtifactError extends Error {
  override name = 'ArtifactError';
}

/** Resolves and hashes what `server` launches; `cwd` is the directory the gateway starts it in. */
export async function describeArtifact(server: Pick<StdioServerConfig, 'command' | 'args' | 'cwd'>): Promise<Artifact> {
  const cwd = resolve(server.cwd ?? '.');
  const launch = analyseLaunch(server.command, server.args);
  if (launch?.ecosystem === 'npm') {
    const dir = (await findInstalled(launch.name, cwd, launch.version)) ?? (await findInNpxCache(launch.name, launch.version));
    if (!dir) {
      throw new ArtifactError(
        `${launch.launcher} would fetch ${launch.spec} from the registry at launch, and no installed copy was found to hash; install it (npm install ${launch.name}@<exact version>) or run it once so npx caches it, then pin again`,
      );
    }
    return npmArtifact(dir);
  }
  if (launch?.ecosystem === 'pypi') return { kind: 'pypi', name: launch.name, ...(launch.version ? { version: launch.version } : {}) };
  if (launch?.ecosystem === 'docker') return { kind: 'docker', image: launch.name, ...(launch.version ? { version: launch.version } : {}) };

  // An interpreter with a script (node server.js, python -m is not a file): the script is what varies.
  const script = await firstFileArgument(server.args, cwd);
  const target = script ?? (await resolveCommand(server.command, cwd));
  if (!target) throw new ArtifactError(`cannot find the command "${server.command}" on PATH or relative to ${cwd}; fix servers.<name>.command`);
  const real = await realpath(target);
  const pkg = await enclosingPackage(real);
  if (pkg) return npmArtifact(pkg);
  return { kind: 'file', path: real, sha256: `sha256:${await fileDigest(real)}` };
}

/** Why `current` is not the pinned artifact, or undefined when it is. */
export function artifactMismatch(pinned: Artifact, current: Artifact): string | undefined {
  if (pinned.kind !== current.kind) return `it now launches a ${current.kind} artifact, pinned was ${pinned.kind}`;
  if (pinned.kind === 'npm' && current.kind === 'npm') {
    if (pinned.name !== current.name || pinned.version !== current.version) return `package ${pinned.name}@${pinned.version} became ${current.name}@${current.version}`;
    if (pinned.tree !== current.tree) return `the files of ${current.name}@${current.version} in ${current.dir} changed (tree ${short(pinned.tree)} → ${short(current.tree)})`;
    return undefined;
  }
  if (pinned.kind === 'file' && current.kind === 'file') {
    if (pinned.path !== current.path) return `it now runs ${current.path}, pinned was ${pinned.path}`;
    if (pinned.sha256 !== current.sha256) return `${current.path} changed (sha256 ${short(pinned.sha256)} → ${short(current.sha256)})`;
    return undefined;
  }
  return JSON.stringify(pinned) === JSON.stringify(current) ? undefined : `${JSON.stringify(pinned)} became ${JSON.stringify(current)}`;
}

/** A launch whose bytes cannot be checked before it runs (fetched by uvx/pipx/docker at start). */
export function unverifiable(artifact: Artifact): string | undefined {
  if (artifact.kind === 'pypi') return `it runs PyPI package ${artifact.name} through a launcher that resolves it at start, so its files cannot be hashed; install it into a virtual environment and launch its script by path`;
  if (artifact.kind === 'docker') return `it runs container image ${artifact.image}, which the sandbox cannot hash or run; run the server's own entry point instead`;
  return undefined;
}

const short = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);

async function npmArtifact(dir: string): Promise<Artifact> {
  const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
  if (!manifest.name || !manifest.version) throw new ArtifactError(`${dir}/package.json has no name or version`);
  const integrity = await lockfileIntegrity(dir, manifest.name);
  return { kind: 'npm', name: manifest.name, version: manifest.version, ...(integrity ? { integrity } : {}), tree: await treeDigest(dir), dir };
}

/**
 * sha256 over every file of a package (sorted relative path and content
 * digest; symlinks by target), its own node_modules left out: dependencies are
 * packages of their own, and hashing them would make every dedupe a "change".
 */
export async function treeDigest(root: string): Promise<string> {
  const lines: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      const path = join(dir, e.name);
      const rel = relative(root, path).split(sep).join('/');
      if (e.isDirectory()) {
        if (e.name !== 'node_modules') await walk(path);
      } else if (e.isSymbolicLink()) {
        lines.push(`${rel}\0link\0${await readlink(path)}`);
      } else if (e.isFile()) {
        lines.push(`${rel}\0${await fileDigest(path)}`);
      }
    }
  };
  await walk(root);
  lines.sort();
  return `sha256:${createHash('sha256').update(lines.join('\n')).digest('hex')}`;
}

/**
 * Hex SHA-256 of a file, remembered by its inode, size and change times (as
 * git's index does): a launch re-hashes only files that changed since, so
 * restarting a server whose command is a 100 MB interpreter stays cheap.
 * ctime cannot be set back from user space, so a rewrite is always seen.
 */
const digests = new Map<string, { stamp: string; hex: string }>();
async function fileDigest(path: string): Promise<string> {
  const st = await stat(path, { bigint: true });
  const stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  const known = digests.get(path);
  if (known?.stamp === stamp) return known.hex;
  const hex = createHash('sha256').update(await readFile(path)).digest('hex');
  digests.set(path, { stamp, hex });
  return hex;
}

async function exists(path: string): Promise<boolean> {
  return access(path, constants.F_OK).then(() => true, () => false);
}

async function versionOf(dir: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** node_modules/<name> in cwd or a parent, as Node (and npx) would find it. */
async function findInstalled(name: string, cwd: string, version: string | undefined): Promise<string | undefined> {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if ((await exists(join(candidate, 'package.json'))) && (version === undefined || version === 'latest' || (await versionOf(candidate)) === version.replace(/^v/, ''))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** npx keeps fetched packages under ~/.npm/_npx/<hash>/node_modules. */
async function findInNpxCache(name: string, version: string | undefined): Promise<string | undefined> {
  const root = join(process.env.npm_config_cache ?? join(homedir(), '.npm'), '_npx');
  let dirs: string[];
  try {
    dirs = await readdir(root);
  } catch {
    return undefined;
  }
  for (const d of dirs.sort()) {
    const candidate = join(root, d, 'node_modules', name);
    const v = await versionOf(candidate);
    if (v !== undefined && (version === undefined || version === 'latest' || v === version.replace(/^v/, ''))) return candidate;
  }
  return undefined;
}

/** The registry integrity that npm recorded when it installed the package, if a lockfile is beside it. */
async function lockfileIntegrity(dir: string, name: string): Promise<string | undefined> {
  for (let up = dirname(dir); ; up = dirname(up)) {
    const lockfile = join(up, 'package-lock.json');
    if (await exists(lockfile)) {
      try {
        const lock = JSON.parse(await readFile(lockfile, 'utf8')) as { packages?: Record<string, { integrity?: string; name?: string }> };
        const key = relative(up, dir).split(sep).join('/');
        const entry = lock.packages?.[key];
        if (entry?.integrity && (key.endsWith(`node_modules/${name}`) || entry.name === name)) return entry.integrity;
      } catch {
        return undefined;
      }
    }
    if (dirname(up) === up) return undefined;
  }
}

/** The package directory (…/node_modules/<name>[/<scoped>]) a file belongs to, if any. */
async function enclosingPackage(file: string): Promise<string | undefined> {
  const parts = file.split(sep);
  const at = parts.lastIndexOf('node_modules');
  if (at === -1 || at + 1 >= parts.length - 1) return undefined;
  const end = parts[at + 1].startsWith('@') ? at + 3 : at + 2;
  const dir = parts.slice(0, end).join(sep);
  return (await exists(join(dir, 'package.json'))) ? dir : undefined;
}

/** The first argument naming an existing regular file (the script an interpreter runs). */
async function firstFileArgument(args: readonly string[], cwd: string): Promise<string | undefined> {
  for (const a of args) {
    if (a.startsWith('-')) continue;
    const path = isAbsolute(a) ? a : resolve(cwd, a);
    const s = await stat(path).catch(() => undefined);
    if (s?.isFile()) return path;
  }
  return undefined;
}

async function resolveCommand(command: string, cwd: string): Promise<string | undefined> {
  if (command.includes('/')) {
    const path = isAbsolute(command) ? command : resolve(cwd, command);
    return (await lstat(path).catch(() => undefined)) ? path : undefined;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, command);
    if (await access(path, constants.X_OK).then(() => true, () => false)) return path;
  }
  return undefined;
}
