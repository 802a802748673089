/**
 * What a stdio server's command line launches: a registry package run through
 * npx/bunx/pnpm dlx/yarn dlx/npm exec (npm), uvx/pipx run (PyPI) or
 * docker run (an image), with its version pin, or undefined for a local command.
 */
import { basename } from 'node:path';

export interface Launch {
  /** `npx`, `uvx`, `docker run`, … */
  launcher: string;
  ecosystem: 'npm' | 'pypi' | 'docker';
  /** The package or image as written, e.g. `@scope/name@latest`. */
  spec: string;
  /** Its name without version. */
  name: string;
  /** The version, tag or digest as written, if any. */
  version?: string;
  /** An exact version (npm, PyPI) or a digest / non-`latest` tag (docker). */
  pinned: boolean;
  /** Index in args of the spec. */
  argIndex: number;
}

const EXACT_SEMVER = /^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/;

/** Scans args for the first positional (skipping flags, and the values of `valued` flags); `take` flags give the spec. */
function positional(args: string[], from: number, valued: Set<string>, take: Set<string>): { spec: string; index: number } | undefined {
  for (let i = from; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return i + 1 < args.length ? { spec: args[i + 1], index: i + 1 } : undefined;
    if (a.startsWith('-')) {
      const [flag, inline] = a.split(/=(.*)/s, 2);
      if (take.has(flag)) return inline !== undefined ? { spec: inline, index: i } : i + 1 < args.length ? { spec: args[i + 1], index: i + 1 } : undefined;
      if (inline === undefined && valued.has(flag)) i++;
      continue;
    }
    return { spec: a, index: i };
  }
  return undefined;
}

function npmSpec(spec: string): { name: string; version?: string } | undefined {
  if (/^[./~]|^[a-z+]+:/i.test(spec) || spec.includes('\\')) return undefined; // path, file:, git+https:, …
  const at = spec.lastIndexOf('@');
  return at > 0 ? { name: spec.slice(0, at), version: spec.slice(at + 1) } : { name: spec };
}

function pypiSpec(spec: string): { name: string; version?: string; pinned: boolean } | undefined {
  if (/^[./~]|^[a-z+]+:/i.test(spec)) return undefined;
  // Letters of any script: a look-alike name (Cyrillic "с" in "fetсh") must still be read as a package to be compared.
  const m = /^([\p{L}\p{N}][\p{L}\p{N}._-]*)(\[[^\]]*\])?\s*(?:(==|@)\s*([^\s,;]+)|([<>=!~].*))?$/u.exec(spec);
  if (!m) return undefined;
  const version = m[4] ?? m[5];
  return { name: m[1], version, pinned: m[4] !== undefined && !m[4].includes('*') && m[4] !== 'latest' };
}

function dockerSpec(spec: string): { name: string; version?: string; pinned: boolean } {
  const digest = spec.indexOf('@');
  if (digest !== -1) return { name: spec.slice(0, digest), version: spec.slice(digest + 1), pinned: spec.slice(digest + 1).startsWith('sha256:') };
  const colon = spec.lastIndexOf(':');
  if (colon > spec.lastIndexOf('/')) {
    const tag = spec.slice(colon + 1);
    return { name: spec.slice(0, colon), version: tag, pinned: tag !== 'latest' };
  }
  return { name: spec, pinned: false };
}

const NPX_VALUED = new Set(['-c', '--call', '--cache', '--registry', '--userconfig', '-w', '--workspace']);
const NPX_TAKE = new Set(['-p', '--package']);
const UVX_VALUED = new Set(['--with', '-w', '--python', '-p', '--index', '--index-url', '--extra-index-url', '--default-index', '--with-requirements', '--cache-dir', '--directory', '--env-file']);
const PIPX_VALUED = new Set(['--python', '--pip-args', '--index-url', '--backend']);
const DOCKER_VALUED = new Set([
  '-e', '--env', '-v', '--volume', '-p', '--publish', '-w', '--workdir', '-u', '--user', '--name', '--network', '--net', '--mount', '--env-file',
  '-l', '--label', '--entrypoint', '--platform', '--pull', '--cpus', '--memory', '-m', '--add-host', '--cap-add', '--cap-drop', '--security-opt',
  '--device', '--tmpfs', '--ulimit', '--hostname', '-h', '--dns', '--restart', '--log-driver', '--ipc', '--pid', '--gpus', '--runtime',
]);

/** The registry package or image a stdio server's command line launches, if any. */
export function analyseLaunch(command: string | undefined, args: string[]): Launch | undefined {
  if (!command) return undefined;
  let cmd = basename(command).toLowerCase().replace(/\.(cmd|exe|bat)$/, '');
  let rest = args;
  if (cmd === 'cmd' && /^\/c$/i.test(rest[0] ?? '') && rest.length > 1) {
    cmd = basename(rest[1]).toLowerCase().replace(/\.(cmd|exe|bat)$/, '');
    rest = rest.slice(2);
  }
  const offset = args.length - rest.length;
  const sub = rest[0];
  let launcher: string | undefined;
  let found: { spec: string; index: number } | undefined;
  let ecosystem: Launch['ecosystem'] = 'npm';
  if (cmd === 'npx' || cmd === 'bunx') [launcher, found] = [cmd, positional(rest, 0, NPX_VALUED, NPX_TAKE)];
  else if ((cmd === 'pnpm' || cmd === 'yarn') && sub === 'dlx') [launcher, found] = [`${cmd} dlx`, positional(rest, 1, NPX_VALUED, NPX_TAKE)];
  else if (cmd === 'npm' && (sub === 'exec' || sub === 'x')) [launcher, found] = [`npm ${sub}`, positional(rest, 1, NPX_VALUED, NPX_TAKE)];
  else if (cmd === 'uvx' || (cmd === 'uv' && sub === 'tool' && rest[1] === 'run')) {
    [launcher, found, ecosystem] = [cmd === 'uvx' ? 'uvx' : 'uv tool run', positional(rest, cmd === 'uvx' ? 0 : 2, UVX_VALUED, new Set(['--from'])), 'pypi'];
  } else if (cmd === 'pipx' && sub === 'run') [launcher, found, ecosystem] = ['pipx run', positional(rest, 1, PIPX_VALUED, new Set(['--spec'])), 'pypi'];
  else if ((cmd === 'docker' || cmd === 'podman') && (sub === 'run' || (sub === 'container' && rest[1] === 'run'))) {
    [launcher, found, ecosystem] = [`${cmd} run`, positional(rest, sub === 'run' ? 1 : 2, DOCKER_VALUED, new Set()), 'docker'];
  }
  if (!launcher || !found) return undefined;
  const argIndex = found.index + offset;
  if (ecosystem === 'npm') {
    const p = npmSpec(found.spec);
    if (!p) return undefined;
    return { launcher, ecosystem, spec: found.spec, ...p, pinned: p.version !== undefined && EXACT_SEMVER.test(p.version), argIndex };
  }
  if (ecosystem === 'pypi') {
    const p = pypiSpec(found.spec);
    return p && { launcher, ecosystem, spec: found.spec, ...p, argIndex };
  }
  return { launcher, ecosystem, spec: found.spec, ...dockerSpec(found.spec), argIndex };
}
