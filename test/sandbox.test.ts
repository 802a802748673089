/**
 * The bubblewrap sandbox, end to end: a malicious server tries every escape
 * the issue lists and fails, each failure visible in the audit log; real MCP
 * servers work inside with a declared directory; egress goes only where the
 * allowlist says. Skipped (loudly) only when bubblewrap is not installed; CI
 * installs it (.ci/run).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuditRecord } from '../src/audit/index.js';
import { parseConfig } from '../src/config/load.js';
import { Gateway } from '../src/gateway/gateway.js';
import { BubblewrapBackend } from '../src/sandbox/index.js';
import { NODE, refusal, startGateway, textOf, type Harness } from './helpers/gateway.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ESCAPE = fileURLToPath(new URL('./fixtures/servers/escape-artist.js', import.meta.url));
const FILESYSTEM = join(ROOT, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
const MEMORY = join(ROOT, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js');
const ROOT_USER = process.getuid?.() === 0;

const bwrap = spawnSync('bwrap', ['--version'], { encoding: 'utf8' });
const skip = bwrap.status === 0 ? false : 'bubblewrap (bwrap) is not installed: the sandbox tests did NOT run (apt-get install bubblewrap)';
if (skip) process.stderr.write(`\n\n*** ${skip} ***\n\n`);

const GATEWAY_SECRET = 'gw-secret-7d1f0c9e-never-inside';
const UPSTREAM_TOKEN = 'upstream-token-3b8e55a1';

async function listen<T extends HttpServer | TcpServer>(server: T): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as { port: number }).port;
}

/** A directory the sandbox uid can use even when the tests run as root (sandboxes then run as uid 65534). */
async function sharedDir(path: string, mode = 0o755): Promise<string> {
  await mkdir(path, { recursive: true });
  await chmod(path, mode);
  return path;
}

async function waitUntil<T>(what: string, probe: () => Promise<T | undefined>, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('sandboxed stdio servers (bubblewrap)', { skip }, () => {
  let h: Harness;
  let base: string;
  let home: string;
  let project: string;
  let outside: string;
  let fsDir: string;
  let memDir: string;
  let hostListener: TcpServer;
  let hostListenerPort: number;
  let hostConnections = 0;
  let serviceA: HttpServer;
  let serviceB: HttpServer;
  let portA: number;
  let portB: number;
  let hitsB = 0;
  const savedHome = process.env.HOME;

  const records = () => h.auditRecords();
  const call = async (tool: string, args: Record<string, unknown> = {}) => {
    const client = await h.connect('agent');
    return client.callTool({ name: tool, arguments: args });
  };
  /** The attempt failed (BLOCKED) and the gateway's audit record of that result says isError. */
  const assertBlocked = async (tool: string, args: Record<string, unknown>, code: RegExp) => {
    const result = await call(tool, args);
    const text = textOf(result);
    assert.match(text, /^BLOCKED: /, `${tool} ${JSON.stringify(args)} escaped: ${text}`);
    assert.match(text, code);
    assert.equal(result.isError, true);
    const [server, name] = tool.split('__');
    const audited = (await records()).filter((r) => r.type === 'result' && r.server === server && r.tool === name);
    assert.ok(audited.length > 0 && audited.at(-1)!.result?.isError === true, `no audited failed result for ${tool}`);
    return text;
  };

  before(async () => {
    base = await sharedDir(await mkdtemp(join(tmpdir(), 'portcullis-sandbox-test-')));
    home = await sharedDir(join(base, 'home'));
    await mkdir(join(home, '.ssh'), { mode: 0o700 });
    await writeFile(join(home, '.ssh', 'id_rsa'), '-----BEGIN OPENSSH PRIVATE KEY----- planted\n', { mode: 0o600 });
    await mkdir(join(home, '.aws'), { mode: 0o700 });
    await writeFile(join(home, '.aws', 'credentials'), '[default]\naws_secret_access_key = planted\n', { mode: 0o600 });
    project = await sharedDir(join(home, 'project'), 0o777);
    outside = await sharedDir(join(base, 'outside'), 0o777);
    fsDir = await sharedDir(join(base, 'fs-root'), 0o777);
    memDir = await sharedDir(join(base, 'memory'), 0o777);

    hostListener = createTcpServer((s) => {
      hostConnections++;
      s.destroy();
    });
    hostListenerPort = await listen(hostListener);
    serviceA = createHttpServer((_req, res) => res.end('service A\n'));
    serviceB = createHttpServer((_req, res) => {
      hitsB++;
      res.end('service B\n');
    });
    portA = await listen(serviceA);
    portB = await listen(serviceB);

    // The gateway's own environment: a secret that must not reach any server,
    // and the source of a credential the config injects by reference.
    process.env.HOME = home;
    process.env.PORTCULLIS_TEST_GATEWAY_SECRET = GATEWAY_SECRET;
    process.env.PORTCULLIS_TEST_UPSTREAM_TOKEN = UPSTREAM_TOKEN;

    const escape = JSON.stringify(ESCAPE);
    h = await startGateway(`
audit: { durability: write }
servers:
  artist:
    command: ${JSON.stringify(NODE)}
    args: [${escape}]
    env: { API_TOKEN: { from_env: PORTCULLIS_TEST_UPSTREAM_TOKEN } }
    sandbox:
      filesystem: { read_write: ["~/project"] }
      limits: { memory_mb: 256, processes: 32 }
  hog:
    command: ${JSON.stringify(NODE)}
    args: [${escape}]
    sandbox: { limits: { memory_mb: 160, cpu_seconds: 2 } }
  egress:
    command: ${JSON.stringify(NODE)}
    args: [${escape}]
    sandbox: { network: { allow: ["127.0.0.1:${portA}"] } }
  fs:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(FILESYSTEM)}, ${JSON.stringify(fsDir)}]
    sandbox: { filesystem: { read_write: [${JSON.stringify(fsDir)}] } }
  mem:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(MEMORY)}]
    env: { MEMORY_FILE_PATH: ${JSON.stringify(join(memDir, 'graph.jsonl'))} }
    sandbox: { filesystem: { read_write: [${JSON.stringify(memDir)}] } }
identities:
  agent: { allowed_tools: ["*"] }
screening:
  # artist__environment dumps the server's environment: the injected credential must reach the test to prove it was injected.
  servers: { artist: { secrets: allow } }
`);
  });

  after(async () => {
    await h?.close();
    process.env.HOME = savedHome;
    delete process.env.PORTCULLIS_TEST_GATEWAY_SECRET;
    delete process.env.PORTCULLIS_TEST_UPSTREAM_TOKEN;
    await Promise.all([hostListener, serviceA, serviceB].map((s) => new Promise((r) => s?.close(r))));
    if (base) await rm(base, { recursive: true, force: true });
  });

  test('every launch is audited with what the sandbox grants', async () => {
    const starts = (await records()).filter((r) => r.type === 'sandbox' && r.code === 'SANDBOXED');
    assert.deepEqual(new Set(starts.map((r) => r.server)), new Set(['artist', 'hog', 'egress', 'fs', 'mem']));
    const artist = starts.find((r) => r.server === 'artist')!.detail as { mounts: string[]; network: unknown; env: string[] };
    assert.ok(artist.mounts.some((m) => m === `rw ${project} (declared read_write)`), JSON.stringify(artist.mounts));
    assert.ok(!artist.mounts.some((m) => m.includes(h.dataDir) || m.includes('.ssh')));
    assert.equal(artist.network, 'none');
    assert.deepEqual(artist.env, ['API_TOKEN (from_env PORTCULLIS_TEST_UPSTREAM_TOKEN)']);
  });

  test('a secret in the host home (~/.ssh/id_rsa, ~/.aws) cannot be read', async () => {
    await assertBlocked('artist__read_file', { path: join(home, '.ssh', 'id_rsa') }, /ENOENT/);
    await assertBlocked('artist__read_file', { path: join(home, '.aws', 'credentials') }, /ENOENT/);
    await assertBlocked('artist__read_file', { path: '/home/sandbox/.ssh/id_rsa' }, /ENOENT/);
    // The host home exists inside only as the path to the declared directory.
    const listing = textOf(await call('artist__list_dir', { path: home }));
    assert.equal(listing, `ESCAPED: ${home}: project`);
  });

  test("the gateway's data dir (audit log, keys) cannot be read", async () => {
    await assertBlocked('artist__read_file', { path: join(h.dataDir, 'audit.jsonl') }, /ENOENT/);
    await assertBlocked('artist__list_dir', { path: h.dataDir }, /ENOENT/);
  });

  test('writes land only in the declared directory', async () => {
    assert.equal(textOf(await call('artist__write_file', { path: join(project, 'ok.txt'), text: 'fine' })), `ESCAPED: wrote ${join(project, 'ok.txt')}`);
    assert.equal(readFileSync(join(project, 'ok.txt'), 'utf8'), 'fine', 'the declared directory is the host directory');
    await assertBlocked('artist__write_file', { path: join(outside, 'pwned.txt'), text: 'x' }, /ENOENT/);
    await assertBlocked('artist__write_file', { path: join(ROOT, 'pwned.txt'), text: 'x' }, /EROFS/);
    await assertBlocked('artist__write_file', { path: '/usr/pwned.txt', text: 'x' }, /EROFS|EACCES/);
    await assertBlocked('artist__write_file', { path: '/etc/pwned.txt', text: 'x' }, /EROFS|EACCES/);
    assert.equal(existsSync(join(outside, 'pwned.txt')) || existsSync(join(ROOT, 'pwned.txt')), false);
  });

  test('a TCP listener on the host loopback is unreachable', async () => {
    await assertBlocked('artist__tcp_connect', { host: '127.0.0.1', port: hostListenerPort }, /ECONNREFUSED/);
    await assertBlocked('egress__tcp_connect', { host: '127.0.0.1', port: hostListenerPort }, /ECONNREFUSED/);
    assert.equal(hostConnections, 0);
  });

  test('names do not resolve without an allowlist', async () => {
    await assertBlocked('artist__resolve', { name: 'example.com' }, /EAI_AGAIN|ENOTFOUND|ECONNREFUSED/);
  });

  test("the gateway's environment is invisible; declared credentials are injected by reference and never logged", async () => {
    const env = JSON.parse(textOf(await call('artist__environment'))) as Record<string, string>;
    assert.equal(Object.values(env).includes(GATEWAY_SECRET), false, 'the gateway secret leaked into the sandbox');
    assert.equal(env.PORTCULLIS_TEST_GATEWAY_SECRET, undefined);
    assert.equal(env.API_TOKEN, UPSTREAM_TOKEN);
    assert.equal(env.HOME, '/home/sandbox');
    const raw = await readFile(join(h.dataDir, 'audit.jsonl'), 'utf8');
    assert.equal(raw.includes(UPSTREAM_TOKEN), false, 'the injected credential reached the audit log');
  });

  test('no capabilities, no new privileges, its own PID namespace', async () => {
    const me = JSON.parse(textOf(await call('artist__whoami'))) as { uid: number; noNewPrivs: string; capEff: string; processes: string[]; hostname: string };
    assert.equal(me.noNewPrivs, '1');
    assert.equal(me.capEff, '0000000000000000');
    assert.equal(me.hostname, 'sandbox');
    if (ROOT_USER) assert.equal(me.uid, 65534, 'a root gateway runs sandboxes as an unprivileged uid');
    assert.ok(me.processes.length <= 4, `sees host processes: ${me.processes.join(', ')}`);
    assert.ok(!me.processes.some((p) => p.endsWith(`:${process.execPath}`) && p.startsWith(`${process.pid}:`)));
  });

  test('a fork bomb stops at the process limit', async () => {
    const text = await assertBlocked('artist__fork_bomb', { max: 500 }, /EAGAIN/);
    const n = Number(/after (\d+) processes/.exec(text)?.[1]);
    assert.ok(n < 32, `spawned ${n} processes under a limit of 32`);
    assert.match(textOf(await call('artist__whoami')), /"noNewPrivs":"1"/, 'the server survives its fork bomb');
  });

  test('allocating past the memory limit fails', async () => {
    const text = await assertBlocked('artist__allocate', { mb: 2048 }, /allocation failed after \d+ MB/);
    assert.ok(Number(/after (\d+) MB/.exec(text)?.[1]) < 256);
  });

  test('a server that exhausts its memory is killed, the client is told why, and it is restarted', async () => {
    const client = await h.connect('agent');
    const message = await refusal(client, 'hog__exhaust_heap');
    // V8 usually stops at its heap limit ("heap out of memory"); when an mmap fails first it segfaults. Either way the client is told.
    assert.match(message, /UPSTREAM_UNAVAILABLE: server "hog" (ran out of memory at its limit|crashed \(SIG\w+\), most likely by hitting its memory limit) \(sandbox\.limits\.memory_mb: 160\)/);
    const exited = (await records()).filter((r) => r.type === 'upstream' && r.server === 'hog' && r.reason === 'exited');
    assert.match(String((exited.at(-1)?.detail as { detail?: string })?.detail), /memory_mb: 160/);
    await waitUntil('hog to restart', async () => (textOf(await client.callTool({ name: 'hog__whoami', arguments: {} })).includes('noNewPrivs') ? true : undefined));
  });

  test('a server over its CPU limit is killed, the client is told why, and it is restarted', async () => {
    const client = await h.connect('agent');
    await waitUntil('hog to be up', async () => (textOf(await client.callTool({ name: 'hog__whoami', arguments: {} })) ? true : undefined));
    const message = await refusal(client, 'hog__burn_cpu');
    assert.match(message, /server "hog" exceeded its CPU limit \(sandbox\.limits\.cpu_seconds: 2\) and was killed \(SIGXCPU\)/);
    const exited = (await records()).filter((r) => r.type === 'upstream' && r.server === 'hog' && r.reason === 'exited');
    assert.match(String((exited.at(-1)?.detail as { detail?: string })?.detail), /CPU limit/);
    await waitUntil('hog to restart', async () => (textOf(await client.callTool({ name: 'hog__whoami', arguments: {} })).includes('noNewPrivs') ? true : undefined));
  });

  test('egress: the allowlisted loopback service is reachable through the proxy, another is refused, both audited', async () => {
    assert.equal(textOf(await call('egress__proxy_get', { url: `http://127.0.0.1:${portA}/` })), 'ESCAPED: HTTP 200 service A');
    assert.match(textOf(await call('egress__proxy_connect', { host: '127.0.0.1', port: portA })), /^ESCAPED: tunnel to .*200 OK service A/);
    await assertBlocked('egress__proxy_get', { url: `http://127.0.0.1:${portB}/` }, /HTTP_403 .*not on servers\.egress\.sandbox\.network\.allow/);
    await assertBlocked('egress__proxy_connect', { host: '127.0.0.1', port: portB }, /HTTP_403 .*not on servers\.egress\.sandbox\.network\.allow/);
    await assertBlocked('egress__proxy_connect', { host: 'exfil.attacker.example', port: 443 }, /HTTP_403/);
    await assertBlocked('egress__tcp_connect', { host: '127.0.0.1', port: portB }, /ECONNREFUSED/);
    await assertBlocked('artist__proxy_get', { url: `http://127.0.0.1:${portA}/` }, /NO_PROXY/);
    assert.equal(hitsB, 0, 'service B was reached');
    const egress = (await records()).filter((r): r is AuditRecord & { detail: { host: string; port: number } } => r.type === 'egress');
    const seen = (decision: string, host: string, port: number) => egress.some((r) => r.decision === decision && r.server === 'egress' && r.detail.host === host && r.detail.port === port);
    assert.ok(seen('allow', '127.0.0.1', portA), 'allowed connection not audited');
    assert.ok(seen('deny', '127.0.0.1', portB), 'refused connection not audited');
    assert.ok(seen('deny', 'exfil.attacker.example', 443), 'refused name not audited');
  });

  test('@modelcontextprotocol/server-filesystem works on its declared directory', async () => {
    const client = await h.connect('agent');
    const file = join(fsDir, 'notes.txt');
    await client.callTool({ name: 'fs__write_file', arguments: { path: file, content: 'written from the sandbox' } });
    assert.equal(readFileSync(file, 'utf8'), 'written from the sandbox');
    assert.equal(textOf(await client.callTool({ name: 'fs__read_text_file', arguments: { path: file } })), 'written from the sandbox');
    const refused = await client.callTool({ name: 'fs__read_text_file', arguments: { path: join(home, '.ssh', 'id_rsa') } });
    assert.equal(refused.isError, true);
    assert.doesNotMatch(textOf(refused), /PRIVATE KEY/);
  });

  test('@modelcontextprotocol/server-memory keeps its graph in its declared directory', async () => {
    const client = await h.connect('agent');
    await client.callTool({ name: 'mem__create_entities', arguments: { entities: [{ name: 'portcullis', entityType: 'project', observations: ['sandboxed'] }] } });
    assert.match(textOf(await client.callTool({ name: 'mem__read_graph', arguments: {} })), /portcullis/);
    assert.match(readFileSync(join(memDir, 'graph.jsonl'), 'utf8'), /"portcullis"/);
  });
});

describe('sandbox start-up checks', { skip }, () => {
  const yaml = (server: string) => `
servers:
  s:
${server}
identities:
  agent: { allowed_tools: ["*"] }
`;

  test('a missing bwrap fails the start closed, naming the package and the server', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'portcullis-sbx-'));
    try {
      const { config } = parseConfig(yaml(`    command: ${JSON.stringify(NODE)}\n    args: [${JSON.stringify(ESCAPE)}]`));
      const sandbox = new BubblewrapBackend({ reporter: { egress: async () => {} }, searchPath: '/nonexistent' });
      await assert.rejects(Gateway.start({ config, dataDir, sandbox }), /bubblewrap \(bwrap\) not found: install the Debian package bubblewrap.*or set sandbox: none on server "s" \(development only/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test("a declared path containing the gateway's data dir is refused", async () => {
    const parent = await mkdtemp(join(tmpdir(), 'portcullis-sbx-'));
    const dataDir = join(parent, 'data');
    try {
      const { config } = parseConfig(yaml(`    command: ${JSON.stringify(NODE)}\n    args: [${JSON.stringify(ESCAPE)}]\n    sandbox: { filesystem: { read_only: [${JSON.stringify(parent)}] } }`));
      await assert.rejects(Gateway.start({ config, dataDir }), /servers\.s\.sandbox\.filesystem\.read_only\[0\]: .* contains the gateway's data dir/);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  test("the data dir stays hidden when it lies inside a server's (inferred) package directory", async (t) => {
    const pkg = await sharedDir(await mkdtemp(join(tmpdir(), 'portcullis-pkg-')));
    t.after(() => rm(pkg, { recursive: true, force: true }));
    await writeFile(join(pkg, 'package.json'), '{"type":"module"}');
    await writeFile(join(pkg, 'server.js'), `import ${JSON.stringify(ESCAPE)};\n`);
    const dataDir = join(pkg, 'portcullis-data');
    const { config, identities } = parseConfig(
      yaml(`    command: ${JSON.stringify(NODE)}\n    args: [${JSON.stringify(join(pkg, 'server.js'))}]\n    sandbox: { filesystem: { read_only: [${JSON.stringify(ROOT)}] } }`),
    );
    const gateway = await Gateway.start({ config, dataDir });
    t.after(() => gateway.close());
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
    const client = new Client({ name: 't', version: '1' });
    await client.connect(await gateway.connect(identities.get('agent')!));
    t.after(() => client.close());
    const read = textOf(await client.callTool({ name: 's__read_file', arguments: { path: join(dataDir, 'audit.jsonl') } }));
    assert.match(read, /^BLOCKED: (EACCES|ENOENT)/);
    assert.match(textOf(await client.callTool({ name: 's__read_file', arguments: { path: join(pkg, 'package.json') } })), /^ESCAPED: read/, 'the package directory itself is visible');
    const start = (await readFile(join(dataDir, 'audit.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord).find((r) => r.type === 'sandbox');
    assert.deepEqual((start?.detail as { hidden: string[] }).hidden, [dataDir]);
  });

  test('sandbox: none is warned about and audited at every start, and refused in production', async () => {
    assert.throws(() => parseConfig(`mode: production\n${yaml(`    command: node\n    sandbox: none`)}`), /servers\.s\.sandbox: production mode refuses unsandboxed stdio servers/);
    const h = await startGateway(yaml(`    command: ${JSON.stringify(NODE)}\n    args: [${JSON.stringify(ESCAPE)}]\n    sandbox: none`));
    try {
      assert.ok(h.loaded.warnings.some((w) => w.path === 'servers.s.sandbox'));
      const none = (await h.auditRecords()).filter((r) => r.type === 'sandbox' && r.code === 'SANDBOX_NONE' && r.server === 's');
      assert.equal(none.length, 1);
    } finally {
      await h.close();
    }
  });

  test('a sandboxed server dies with the gateway, even when the gateway is SIGKILLed', async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'portcullis-sbx-'));
    // The killed gateway cannot remove its sandbox's runtime directory: give it a temp dir of its own.
    const scratch = await sharedDir(await mkdtemp(join(tmpdir(), 'portcullis-sbx-tmp-')));
    t.after(() => Promise.all([rm(dataDir, { recursive: true, force: true }), rm(scratch, { recursive: true, force: true })]));
    const script = `
      import { parseConfig } from ${JSON.stringify(join(ROOT, 'dist/src/config/load.js'))};
      import { Gateway } from ${JSON.stringify(join(ROOT, 'dist/src/gateway/gateway.js'))};
      const { config } = parseConfig(${JSON.stringify(yaml(`    command: ${JSON.stringify(NODE)}\n    args: [${JSON.stringify(ESCAPE)}]`))});
      const gw = await Gateway.start({ config, dataDir: ${JSON.stringify(dataDir)} });
      process.stdout.write(String(gw.upstream('s').pid) + '\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(NODE, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TMPDIR: scratch } });
    const pid = Number(await new Promise<string>((r) => child.stdout.once('data', (d: Buffer) => r(d.toString().trim()))));
    assert.ok(pid > 0);
    const descendants = (p: number): number[] => {
      const out = spawnSync('ps', ['-o', 'pid=', '--ppid', String(p)], { encoding: 'utf8' }).stdout.trim().split(/\s+/).filter(Boolean).map(Number);
      return out.flatMap((c) => [c, ...descendants(c)]);
    };
    const tree = [pid, ...descendants(pid)];
    assert.ok(tree.length >= 2, 'expected bwrap and the server');
    child.kill('SIGKILL');
    const alive = (p: number) => {
      try {
        process.kill(p, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitUntil('the sandbox to die with the gateway', async () => (tree.some(alive) ? undefined : true), 5000);
  });
});
