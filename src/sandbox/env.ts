import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { isStdioServer, type Config, type EnvValue } from '../config/schema.js';

/** `~/x` → the gateway user's home; other paths are made absolute. */
export function expandPath(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return resolve(p);
}

/**
 * Resolves a server's declared environment. Secret references are read at
 * each launch (so a rotated secret is picked up by the next restart) and the
 * values go only into the child's environment: never into argv (visible to
 * every local user in /proc), logs or audit records. An error names the
 * variable, never the value.
 */
export async function resolveEnv(server: string, declared: Record<string, EnvValue>, source: NodeJS.ProcessEnv = process.env): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(declared)) {
    if (typeof value === 'string') {
      env[key] = value;
    } else if ('from_env' in value) {
      const v = source[value.from_env];
      if (v === undefined) {
        throw new Error(`servers.${server}.env.${key}: from_env ${value.from_env} is not set in the gateway's environment; export it before starting the gateway`);
      }
      env[key] = v;
    } else {
      const file = expandPath(value.from_file);
      try {
        env[key] = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
      } catch (error) {
        throw new Error(`servers.${server}.env.${key}: cannot read from_file ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); check the path and that the gateway user can read it`);
      }
    }
  }
  return env;
}

/** Every secret file the config references: no sandbox may see one, even inside a mounted directory. */
export function secretFiles(config: Config): string[] {
  const files: string[] = [];
  for (const server of Object.values(config.servers)) {
    if (!isStdioServer(server)) continue;
    for (const value of Object.values(server.env)) if (typeof value === 'object' && 'from_file' in value) files.push(expandPath(value.from_file));
  }
  return files;
}

/** Names and where values come from, never values: for audit records and logs. */
export function describeEnv(declared: Record<string, EnvValue>): string[] {
  return Object.entries(declared).map(([key, value]) =>
    typeof value === 'string' ? `${key} (value in the config)` : 'from_env' in value ? `${key} (from_env ${value.from_env})` : `${key} (from_file ${value.from_file})`,
  );
}
