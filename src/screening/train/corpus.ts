/**
 * Real-world benign text for training, taken from packages already installed
 * by `npm ci` (so pinned by package-lock.json and available offline):
 *
 *  - the Markdown documentation of the installed packages (READMEs, docs/):
 *    technical prose full of imperatives addressed to a human reader ("run",
 *    "ignore", "override", "execute", "send") — the best cheap hard negative;
 *  - TypeScript's compiler messages in 13 languages (benign non-English text).
 *
 * Packages under @modelcontextprotocol/ are left out on purpose: the reference
 * servers' tool descriptions are part of the evaluation's held-out half, and
 * training on them would leak it.
 *
 * Files are read in sorted order and chunked deterministically. The list of
 * files and their sizes are hashed into the model's metadata, so a different
 * node_modules is visible as a different `corpusDigest`.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface Corpus {
  /** Prose chunks (Markdown docs). */
  docs: string[];
  /** Short multilingual messages. */
  messages: string[];
  digest: string;
  files: number;
  /** Packages of CORPUS_PACKAGES not installed. */
  missing: string[];
}

/**
 * The packages whose Markdown is used: those of the committed package-lock.json
 * that ship documentation, fixed here so that a dependency added later does not
 * silently change the training data (a missing one is reported and changes the
 * digest). @modelcontextprotocol/* is deliberately absent (see above).
 */
export const CORPUS_PACKAGES = [
  '@hono/node-server', '@octokit/auth-token', '@octokit/core', '@octokit/endpoint', '@octokit/graphql', '@octokit/plugin-paginate-rest',
  '@octokit/plugin-request-log', '@octokit/plugin-rest-endpoint-methods', '@octokit/request', '@octokit/request-error', '@octokit/rest',
  '@octokit/types', '@pinojs/redact', '@types/node', 'accepts', 'ajv', 'ajv-formats', 'async-function', 'async-generator-function',
  'atomic-sleep', 'balanced-match', 'before-after-hook', 'body-parser', 'brace-expansion', 'bytes', 'call-bind-apply-helpers',
  'call-bound', 'canonicalize', 'commander', 'content-disposition', 'content-type', 'cookie', 'cors', 'cross-spawn', 'debug', 'depd',
  'diff', 'dunder-proto', 'ee-first', 'encodeurl', 'es-define-property', 'es-errors', 'es-object-atoms', 'etag', 'eventsource',
  'eventsource-parser', 'express', 'express-rate-limit', 'fast-deep-equal', 'fast-uri', 'fastest-levenshtein', 'finalhandler', 'forwarded',
  'fresh', 'function-bind', 'generator-function', 'get-intrinsic', 'get-proto', 'glob', 'gopd', 'has-symbols', 'hasown', 'hono',
  'http-errors', 'iconv-lite', 'immediate', 'inherits', 'ip-address', 'ipaddr.js', 'isarray', 'jose', 'json-schema-traverse',
  'json-schema-typed', 'json-with-bigint', 'jszip', 'lie', 'lru-cache', 'math-intrinsics', 'media-typer', 'mime-db', 'mime-types',
  'minimatch', 'minipass', 'ms', 'negotiator', 'object-assign', 'object-inspect', 'on-finished', 'once', 'pako', 'parseurl', 'path-scurry',
  'path-to-regexp', 'picomatch', 'pino', 'pino-abstract-transport', 'pino-std-serializers', 'pkce-challenge', 'process-warning',
  'proxy-addr', 'qs', 'quick-format-unescaped', 'range-parser', 'raw-body', 'readable-stream', 'router', 'rxjs', 'safe-buffer',
  'safe-stable-stringify', 'safer-buffer', 'send', 'serve-static', 'side-channel', 'side-channel-list', 'side-channel-map',
  'side-channel-weakmap', 'sonic-boom', 'spawn-rx', 'split2', 'statuses', 'string_decoder', 'thread-stream', 'toidentifier', 'tslib',
  'type-is', 'typescript', 'undici', 'universal-user-agent', 'util-deprecate', 'vary', 'which', 'yaml', 'zod', 'zod-to-json-schema',
];

function walk(dir: string, out: string[], depth: number): void {
  if (depth > 6) return;
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return;
  }
  for (const name of names) {
    const p = join(dir, name);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) {
      if (name === '.bin' || name === 'node_modules' || name === 'test' || name === 'tests' || name === '__tests__') continue;
      walk(p, out, depth + 1);
    } else if (/\.md$/i.test(name) && st.size >= 1500 && st.size <= 400_000) {
      out.push(p);
    }
  }
}

/** Split Markdown into chunks of roughly 300-1800 characters at blank lines. */
export function chunkMarkdown(text: string, max = 1800): string[] {
  const paras = text
    .replace(/\r\n/g, '\n')
    .replace(/<!--[\s\S]*?-->/g, '')
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  const out: string[] = [];
  let cur = '';
  for (const p of paras) {
    if (p.length > max * 2) continue; // giant tables and code dumps
    if (cur && cur.length + p.length + 2 > max) {
      if (cur.length >= 300) out.push(cur);
      cur = '';
    }
    cur = cur ? `${cur}\n\n${p}` : p;
  }
  if (cur.length >= 300) out.push(cur);
  return out;
}

export function loadCorpus(root: string, opts: { maxChunksPerFile?: number } = {}): Corpus {
  const nm = join(root, 'node_modules');
  const hash = createHash('sha256');
  if (!existsSync(nm)) throw new Error(`no node_modules under ${root}: run npm ci first`);
  const files: string[] = [];
  const missing: string[] = [];
  for (const pkg of CORPUS_PACKAGES) {
    const dir = join(nm, ...pkg.split('/'));
    if (!existsSync(dir)) {
      missing.push(pkg);
      continue;
    }
    walk(dir, files, 0);
  }
  hash.update(`missing:${missing.join(',')}`);
  const docs: string[] = [];
  const perFile = opts.maxChunksPerFile ?? 8;
  let used = 0;
  for (const f of files) {
    const rel = relative(nm, f).split('\\').join('/');
    const text = readFileSync(f, 'utf8');
    // Skip generated API dumps and license texts.
    if (/^license|^licence/i.test(rel.split('/').pop() ?? '')) continue;
    hash.update(rel).update('\0').update(text).update('\0');
    used++;
    const chunks = chunkMarkdown(text);
    // Spread the picks over the file rather than taking its head.
    const step = Math.max(1, Math.floor(chunks.length / perFile));
    for (let i = 0, k = 0; i < chunks.length && k < perFile; i += step, k++) docs.push(chunks[i]);
  }
  const messages: string[] = [];
  const tsLib = join(nm, 'typescript', 'lib');
  if (existsSync(tsLib)) {
    for (const lang of readdirSync(tsLib).sort()) {
      const f = join(tsLib, lang, 'diagnosticMessages.generated.json');
      if (!existsSync(f)) continue;
      const text = readFileSync(f, 'utf8');
      hash.update(`ts/${lang}`).update('\0').update(text);
      const map = JSON.parse(text) as Record<string, string>;
      const keys = Object.keys(map).sort();
      for (let i = 0; i < keys.length; i += 9) messages.push(map[keys[i]]);
    }
    // The English originals are encoded in the keys.
    const f = join(tsLib, 'de', 'diagnosticMessages.generated.json');
    if (existsSync(f)) {
      const keys = Object.keys(JSON.parse(readFileSync(f, 'utf8')) as Record<string, string>).sort();
      for (let i = 4; i < keys.length; i += 9) messages.push(keys[i].replace(/_\d+$/, '').replace(/_/g, ' ').replace(/ 0 | 1 /g, " '{0}' "));
    }
  }
  return { docs, messages, digest: hash.digest('hex').slice(0, 16), files: used, missing };
}
