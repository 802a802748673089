import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProcessExit, ProcessSpec } from '../../transports/stdio-process.js';
import { EgressProxy } from '../egress-proxy/proxy.js';
import { explainLimitExit, nodeOptionsFor, prlimitArgs } from '../limits/limits.js';
import type { PreparedSandbox, SandboxBackend, SandboxCheck, SandboxedServer, SandboxPolicy, SandboxReporter } from '../types.js';
import { accessProblem } from './access.js';
import { bwrapArgs, systemArgs, type BwrapMount } from './args.js';
import { contains, inferRuntime, resolveCommand } from './runtime.js';

/** The uid a root gateway runs sandboxes as: RLIMIT_NPROC is not enforced for host uid 0, even inside a user namespace. */
export const UNPRIVILEGED_ID = 65534;
/** Where the sandbox's home is, inside. A private tmpfs: nothing of the host user's home (~/.ssh, ~/.aws) is there. */
export const SANDBOX_HOME = '/home/sandbox';
const INSIDE = '/run/portcullis';
/** Tasks the egress forwarder (a second Node process) needs, added to the server's own process limit. */
const FORWARDER_TASKS = 16;
const FORWARDER = fileURLToPath(new URL('../egress-proxy/forwarder.js', import.meta.url));
/** Environment that describes the host user; the sandbox sets its own. */
const HOST_IDENTITY = ['HOME', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR', 'PATH', 'XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME'];

export interface BubblewrapOptions {
  reporter: SandboxReporter;
  /** bwrap binary; default: found on `searchPath`. */
  bwrap?: string;
  /** Where to look for bwrap and setpriv; default: PATH, then /usr/bin and /bin. */
  searchPath?: string;
}

function which(name: string, searchPath?: string): string | undefined {
  const dirs = searchPath !== undefined ? searchPath.split(delimiter) : [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/bin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    try {
      return resolveCommand(name, '/', dir);
    } catch {
      // next
    }
  }
  return undefined;
}

/**
 * Linux namespaces through bubblewrap: an empty root with the runtime
 * read-only, the declared paths, private tmpfs /tmp and home, no network (or
 * only the egress proxy's socket), new user/PID/IPC/UTS/net/cgroup
 * namespaces, no capabilities, no new privileges, dying with the gateway,
 * and rlimits applied inside.
 */
export class BubblewrapBackend implements SandboxBackend {
  readonly name = 'bubblewrap';
  #checked?: Promise<SandboxCheck>;
  #bwrap?: string;
  #setpriv?: string;
  #prlimit?: string;

  constructor(private readonly options: BubblewrapOptions) {}

  /** The uid/gid the sandboxed process has on the host. */
  get identity(): { uid: number; gid: number; switched: boolean } {
    const root = process.getuid?.() === 0;
    return root ? { uid: UNPRIVILEGED_ID, gid: UNPRIVILEGED_ID, switched: true } : { uid: process.getuid!(), gid: process.getgid!(), switched: false };
  }

  check(): Promise<SandboxCheck> {
    this.#checked ??= this.#check();
    return this.#checked;
  }

  async #check(): Promise<SandboxCheck> {
    if (process.platform !== 'linux') {
      return { ok: false, reason: `stdio servers are sandboxed with Linux namespaces (bubblewrap), and this is ${process.platform}: portcullis cannot isolate them here; run the gateway in a Linux VM or container` };
    }
    this.#bwrap = this.options.bwrap ?? which('bwrap', this.options.searchPath);
    if (!this.#bwrap) return { ok: false, reason: 'bubblewrap (bwrap) not found: install the Debian package bubblewrap (apt-get install bubblewrap; other distributions call it bubblewrap too)' };
    // prlimit runs inside the sandbox, where only the system directories exist.
    this.#prlimit = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p));
    if (!this.#prlimit) return { ok: false, reason: 'prlimit (util-linux) not found in /usr/bin; install util-linux' };
    if (this.identity.switched) {
      this.#setpriv = which('setpriv', this.options.searchPath);
      if (!this.#setpriv) return { ok: false, reason: 'the gateway runs as root, so sandboxes run as uid 65534, which needs setpriv (util-linux); install util-linux or run the gateway as an unprivileged user' };
    }
    const probe = this.#wrap(probeArgs(this.#prlimit));
    const result = await run(probe.command, probe.args, 10_000);
    if (result.code !== 0) return { ok: false, reason: probeFailure(this.#bwrap, result) };
    return { ok: true, detail: `${this.#bwrap}${this.identity.switched ? ` as uid ${UNPRIVILEGED_ID}` : ''}` };
  }

  /** The same check, synchronously (for the demo, which decides its config before starting anything). */
  checkSync(): SandboxCheck {
    if (process.platform !== 'linux') return { ok: false, reason: `sandboxing needs Linux namespaces (bubblewrap), and this is ${process.platform}` };
    const bwrap = this.options.bwrap ?? which('bwrap', this.options.searchPath);
    const prlimit = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p));
    if (!bwrap) return { ok: false, reason: 'bubblewrap (bwrap) not found' };
    if (!prlimit) return { ok: false, reason: 'prlimit (util-linux) not found' };
    const setpriv = this.identity.switched ? which('setpriv', this.options.searchPath) : undefined;
    if (this.identity.switched && !setpriv) return { ok: false, reason: 'setpriv (util-linux) not found' };
    const args = probeArgs(prlimit);
    const id = String(UNPRIVILEGED_ID);
    const r = setpriv
      ? spawnSync(setpriv, ['--reuid', id, '--regid', id, '--clear-groups', '--', bwrap, ...args], { encoding: 'utf8', timeout: 10_000, env: { PATH: '/usr/bin:/bin' } })
      : spawnSync(bwrap, args, { encoding: 'utf8', timeout: 10_000, env: { PATH: '/usr/bin:/bin' } });
    return r.status === 0 ? { ok: true, detail: bwrap } : { ok: false, reason: probeFailure(bwrap, { code: r.status, stderr: r.stderr ?? '' }) };
  }

  #wrap(bwrapArgs: string[]): { command: string; args: string[] } {
    if (!this.identity.switched) return { command: this.#bwrap!, args: bwrapArgs };
    const id = String(UNPRIVILEGED_ID);
    return { command: this.#setpriv!, args: ['--reuid', id, '--regid', id, '--clear-groups', '--inh-caps=-all', '--', this.#bwrap!, ...bwrapArgs] };
  }

  async prepare(server: SandboxedServer, policy: SandboxPolicy, spec: ProcessSpec): Promise<PreparedSandbox> {
    const ok = await this.check();
    if (!ok.ok) throw new Error(ok.reason);
    const { uid, gid, switched } = this.identity;
    const home = homedir();
    const declaredEnv = new Set(server.declaredEnv ?? []);
    const cwd = spec.cwd ? resolve(spec.cwd) : undefined;
    const runtime = inferRuntime({
      command: spec.command,
      args: spec.args,
      cwd: cwd ?? process.cwd(),
      searchPath: spec.env.PATH ?? process.env.PATH ?? '/usr/bin:/bin',
      home,
      execPath: process.execPath,
    });

    const mounts: BwrapMount[] = [
      ...runtime.mounts.map((m) => ({ path: m.path, mode: 'ro' as const, why: m.why })),
      ...policy.filesystem.readOnly.map((path) => ({ path, mode: 'ro' as const, why: 'declared read_only' })),
      ...policy.filesystem.readWrite.map((path) => ({ path, mode: 'rw' as const, why: 'declared read_write' })),
    ];
    for (const m of mounts) {
      const declared = m.why.startsWith('declared');
      const where = declared ? `servers.${server.name}.sandbox.filesystem.${m.mode === 'rw' ? 'read_write' : 'read_only'}: ` : `servers.${server.name}: `;
      if (!existsSync(m.path)) throw new Error(`${where}${m.path} does not exist; create it or remove it from the list`);
      if (switched) {
        const problem = accessProblem(m.path, uid, gid, m.mode === 'rw' ? 'write' : 'read');
        if (problem) {
          throw new Error(
            `${where}${problem} (${m.why}). The gateway runs as root, so sandboxed servers run as uid ${uid} (the process limit does not hold for root); ` +
              `make the path accessible to uid ${uid} (chown/chmod), or run the gateway as an unprivileged user`,
          );
        }
      }
    }
    if (cwd && !mounts.some((m) => contains(m.path, cwd))) {
      throw new Error(`servers.${server.name}.cwd: ${cwd} is not visible in the sandbox; add it to sandbox.filesystem.read_only or read_write, or remove cwd`);
    }

    const dir = await mkdtemp(join(tmpdir(), 'portcullis-sandbox-'));
    let proxy: EgressProxy | undefined;
    const dispose = async () => {
      await proxy?.close().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    };
    try {
      const files: { src: string; dest: string }[] = [];
      const etc = async (name: string, content: string) => {
        await writeFile(join(dir, name), content, { mode: 0o644 });
        files.push({ src: join(dir, name), dest: `/etc/${name}` });
      };
      await etc('passwd', `root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:${uid}:${gid}:sandbox:${SANDBOX_HOME}:/usr/sbin/nologin\n${uid === 65534 ? '' : 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n'}`);
      await etc('group', `root:x:0:\nsandbox:x:${gid}:\n${gid === 65534 ? '' : 'nogroup:x:65534:\n'}`);
      await etc('hosts', '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tsandbox\n');
      await etc('nsswitch.conf', 'passwd: files\ngroup: files\nhosts: files dns\n');
      if (switched) await chown(dir, uid, gid);

      const limits = policy.limits;
      let inner = [runtime.command, ...runtime.args];
      let nproc = limits.processes;
      if (policy.network !== 'none') {
        const socket = join(dir, 'egress.sock');
        proxy = await EgressProxy.listen({ server: server.name, allow: policy.network.allow, socketPath: socket, report: (e) => this.options.reporter.egress(e), owner: switched ? { uid, gid } : undefined });
        files.push({ src: socket, dest: `${INSIDE}/egress.sock` }, { src: FORWARDER, dest: `${INSIDE}/forwarder.mjs` });
        inner = [process.execPath, `${INSIDE}/forwarder.mjs`, '--socket', `${INSIDE}/egress.sock`, '--', ...inner];
        nproc += FORWARDER_TASKS;
      }
      const hide = policy.hidden.filter((p) => existsSync(p)).map((p) => ({ path: p, directory: statSync(p).isDirectory() }));
      const args = bwrapArgs({
        mounts,
        hide,
        files,
        home: SANDBOX_HOME,
        tmpBytes: limits.tmp_mb * 1024 * 1024,
        chdir: cwd ?? SANDBOX_HOME,
        hostname: 'sandbox',
        command: [this.#prlimit!, ...prlimitArgs({ ...limits, processes: nproc }), '--', ...inner],
      });

      const env: Record<string, string> = { ...spec.env };
      for (const k of HOST_IDENTITY) if (!declaredEnv.has(k)) delete env[k];
      Object.assign(env, { HOME: SANDBOX_HOME, USER: 'sandbox', LOGNAME: 'sandbox', TMPDIR: '/tmp', PATH: runtime.path });
      for (const k of declaredEnv) if (spec.env[k] !== undefined) env[k] = spec.env[k];
      env.NODE_OPTIONS = nodeOptionsFor(limits, declaredEnv.has('NODE_OPTIONS') ? spec.env.NODE_OPTIONS : undefined);

      const wrapped = this.#wrap(args);
      return {
        spec: { command: wrapped.command, args: wrapped.args, env, cwd: '/', stderrLimitBytes: limits.stderr_kb * 1024 },
        dispose,
        explainExit: (exit: ProcessExit) => explainBwrapExit(exit) ?? explainLimitExit(exit, limits),
        describe: {
          backend: this.name,
          uid,
          mounts: mounts.map((m) => `${m.mode} ${m.path} (${m.why})`),
          hidden: hide.filter((h) => mounts.some((m) => contains(m.path, h.path))).map((h) => h.path),
          network: policy.network === 'none' ? 'none' : { allow: policy.network.allow, via: 'egress proxy (unix socket)' },
          limits: { ...limits, processes: nproc },
          namespaces: ['user', 'pid', 'ipc', 'uts', 'net', 'cgroup (if available)', 'mount'],
        },
      };
    } catch (error) {
      await dispose();
      throw error;
    }
  }
}

function probeArgs(prlimit: string): string[] {
  return ['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', ...systemArgs(), '--proc', '/proc', '--dev', '/dev', '--', prlimit, '--nproc=64', '--', prlimit, '--version'];
}

function probeFailure(bwrap: string, result: { code: number | null; stderr: string }): string {
  const why = result.stderr.trim().split('\n').pop() || `exit ${result.code}`;
  return (
    `bubblewrap is installed (${bwrap}) but cannot create a sandbox here: ${why}. Unprivileged user namespaces may be disabled ` +
    '(sysctl kernel.unprivileged_userns_clone=1; on Ubuntu, kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for bwrap)'
  );
}

/** bubblewrap's own failures (a mount it could not make) end with "bwrap: ..." on stderr and exit 1. */
function explainBwrapExit(exit: ProcessExit): string | undefined {
  const line = exit.stderrTail.split('\n').reverse().find((l) => l.startsWith('bwrap: '));
  return line && exit.code === 1 ? `could not be sandboxed (${line})` : undefined;
}

function run(command: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs, env: { PATH: '/usr/bin:/bin' } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t.slice(0, 4000)));
    child.on('error', (error) => resolve({ code: -1, stderr: error.message }));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}
