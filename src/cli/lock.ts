import { createPublicKey } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfigFile, type LoadedConfig } from '../config/load.js';
import { isStdioServer } from '../config/schema.js';
import { artifactMismatch, describeArtifact } from '../admission/artifact.js';
import { launchOf, sameLaunch } from '../admission/control.js';
import { diffLocks, readLock, serialiseLock, type Lock } from '../admission/lock.js';
import { mergeLock, pinServers, renderChanges } from '../admission/pin.js';
import { generateSigningKey, keyId, loadPrivateKey, loadTrustedKeys, signLock, verifyLock, writeKeyPair } from '../admission/signing.js';

const DEFAULT_CONFIG = 'portcullis.yaml';

/**
 * The lock's life cycle: `pin` records and reviews, `keygen` makes a
 * reviewer's key, `sign` vouches for a reviewed lock, `verify-lock` checks a
 * lock against the config and the files on disk (for CI and before deploys).
 */
export function registerLockCommands(program: Command): void {
  program
    .command('pin')
    .description('connect to the configured servers (sandboxed), show what changed against portcullis.lock, and write it after you confirm')
    .argument('[servers...]', 'pin only these servers; the others keep their entries')
    .option('--config <file>', 'config file (YAML or JSON)', DEFAULT_CONFIG)
    .option('--yes', 'write without asking (automation); the review is still printed')
    .action(async (only: string[], opts: { config: string; yes?: boolean }) => {
      const loaded = await loadConfigFile(opts.config);
      const unknown = only.filter((s) => !(s in loaded.config.servers));
      if (unknown.length) fail(`not configured in ${loaded.file}: ${unknown.join(', ')}`);
      const lockPath = loaded.config.admission.lock!;
      const current = await readLock(lockPath);
      for (const w of loaded.warnings) process.stderr.write(`warning: ${loaded.file}: ${w.path}: ${w.message}\n`);
      const outcome = await pinServers(loaded.config, { only: only.length ? only : undefined, spkiOf: async (url, ca) => (await import('../admission/tls-pin.js')).fetchSpkiPin(url, ca ? { ca } : {}) });
      for (const f of outcome.findings) {
        const what = f.kind === 'instructions' ? `server ${f.server} instructions` : `${f.server} ${f.kind.replace('_', ' ')} ${f.name}`;
        process.stderr.write(`${f.severity === 'high' ? 'refused' : 'warning'}: ${what}${f.where ? ` ${f.where}` : ''}: ${f.rule}: ${f.message} (${f.evidence})\n`);
      }
      if (outcome.failed.length) {
        for (const f of outcome.failed) process.stderr.write(`portcullis pin: server ${f.server} could not be pinned: ${f.error}\n`);
        fail(`nothing written; fix the servers above and pin again`);
      }
      const next = mergeLock(loaded.config, current, outcome.servers);
      const changes = diffLocks(current, next);
      process.stdout.write(renderChanges(changes));
      if (changes.length === 0 && current) return;
      if (!opts.yes && !(await confirm(`Write ${lockPath}? The new lock is unsigned until reviewers sign it. [y/N] `))) {
        process.stderr.write('portcullis pin: not written\n');
        process.exitCode = 1;
        return;
      }
      await writeFile(lockPath, serialiseLock(next));
      const keys = Object.keys(loaded.config.admission.trusted_keys).length;
      process.stdout.write(`wrote ${lockPath} (${Object.keys(next.servers).length} servers)${keys ? `; sign it with "portcullis sign --key <your .key> --config ${opts.config}" (${loaded.config.admission.required_signatures} of ${keys} trusted keys needed)` : ''}\n`);
    });

  program
    .command('keygen')
    .description('create an Ed25519 key pair for signing portcullis.lock (NAME.key stays with you, NAME.pub goes into admission.trusted_keys)')
    .option('--out <name>', 'path and base name of the two files', 'portcullis-signing')
    .action(async (opts: { out: string }) => {
      const key = generateSigningKey();
      const { privatePath, publicPath } = await writeKeyPair(resolve(opts.out), key).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'EEXIST') fail(`${e.path} exists; keygen never overwrites a key — choose another --out`);
        throw e;
      });
      process.stdout.write(`key ${key.id}\n  private: ${privatePath} (mode 600; keep it off the gateway host)\n  public:  ${publicPath}\nTrust it in the config:\n  admission:\n    trusted_keys:\n      <your-name>: ${publicPath}\n`);
    });

  program
    .command('sign')
    .description('add your signature to the lock after reviewing it')
    .requiredOption('--key <file>', 'your private key (from portcullis keygen)')
    .option('--config <file>', 'config file naming the lock', DEFAULT_CONFIG)
    .action(async (opts: { key: string; config: string }) => {
      const loaded = await loadConfigFile(opts.config);
      const lockPath = loaded.config.admission.lock!;
      const lock = await readLock(lockPath);
      if (!lock) fail(`${lockPath} does not exist; create it with "portcullis pin"`);
      const key = await loadPrivateKey(opts.key);
      const id = keyId(createPublicKey(key));
      const trusted = await loadTrustedKeys(loaded.config.admission.trusted_keys);
      if (!trusted.some((k) => k.id === id)) process.stderr.write(`warning: key ${id} is not in admission.trusted_keys of ${loaded.file}, so this signature will not count there\n`);
      await writeFile(lockPath, serialiseLock(signLock(lock!, key)));
      process.stdout.write(`signed ${lockPath} with key ${id} (${Object.keys(lock!.servers).length} servers)\n`);
    });

  program
    .command('verify-lock')
    .description('check the lock offline: signatures (k of n trusted keys), every configured server pinned as configured, artifacts unchanged on disk')
    .option('--config <file>', 'config file (YAML or JSON)', DEFAULT_CONFIG)
    .action(async (opts: { config: string }) => {
      const loaded = await loadConfigFile(opts.config);
      const lockPath = loaded.config.admission.lock!;
      const lock = await readLock(lockPath);
      if (!lock) fail(`${lockPath} does not exist; create it with "portcullis pin"`);
      const problems = await lockProblems(loaded, lock!);
      for (const [name, entry] of Object.entries(lock!.servers)) {
        process.stdout.write(`${name}: ${entry.identity.name} ${entry.identity.version}, ${Object.keys(entry.tools).length} tools, ${Object.keys(entry.prompts).length} prompts, ${Object.keys(entry.resource_templates).length} resource templates${entry.artifact ? `, ${describe(entry.artifact)}` : ''}\n`);
      }
      if (problems.length) {
        process.stdout.write(`${lockPath} does NOT verify:\n  - ${problems.join('\n  - ')}\n`);
        process.exitCode = 1;
      } else {
        process.stdout.write(`${lockPath} verifies\n`);
      }
    });
}

function describe(a: NonNullable<Lock['servers'][string]['artifact']>): string {
  switch (a.kind) {
    case 'npm':
      return `npm ${a.name}@${a.version}`;
    case 'file':
      return `file ${a.path}`;
    case 'pypi':
      return `PyPI ${a.name}${a.version ? `==${a.version}` : ''} (not verifiable offline)`;
    case 'docker':
      return `image ${a.image}${a.version ? `:${a.version}` : ''} (not verifiable offline)`;
  }
}

async function lockProblems(loaded: LoadedConfig, lock: Lock): Promise<string[]> {
  const problems: string[] = [];
  const a = loaded.config.admission;
  const trusted = await loadTrustedKeys(loaded.config.admission.trusted_keys);
  if (trusted.length === 0) problems.push('no admission.trusted_keys are configured, so no signature can count');
  else {
    const v = verifyLock(lock, trusted, a.required_signatures);
    problems.push(...v.problems);
    if (!v.ok) problems.push(`it has ${v.signers.length} of the ${a.required_signatures} required signatures (valid: ${v.signers.join(', ') || 'none'}); review it and sign with "portcullis sign --key <your .key>"`);
  }
  for (const [name, server] of Object.entries(loaded.config.servers)) {
    const entry = lock.servers[name];
    if (!entry) {
      problems.push(`server ${name} is configured but not pinned`);
      continue;
    }
    if (!sameLaunch(entry.launch, launchOf(server))) problems.push(`server ${name} is launched differently from its pin`);
    if (isStdioServer(server) && entry.artifact && (entry.artifact.kind === 'npm' || entry.artifact.kind === 'file')) {
      const why = await describeArtifact(server).then((now) => artifactMismatch(entry.artifact!, now), (e: Error) => e.message);
      if (why) problems.push(`server ${name}: ${why}`);
    }
  }
  return problems;
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    process.stderr.write('portcullis pin: stdin is not a terminal, so nobody can confirm; review the changes above and re-run with --yes\n');
    return false;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

function fail(message: string): never {
  process.stderr.write(`portcullis: ${message}\n`);
  process.exit(2);
}
