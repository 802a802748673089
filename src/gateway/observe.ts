import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { ServerSnapshot } from '../admission/control.js';
import { Gateway } from './gateway.js';

export type Observation = { snapshot: ServerSnapshot } | { error: string };

/**
 * Looks at servers in order to review them (`portcullis pin`, `scan
 * --connect`, the risk report): each is started on its own, so one that fails
 * is reported rather than sinking the rest, in a throwaway data directory,
 * with no guards and without the lock (it is what is being reviewed), and
 * only asked for `initialize` and its lists.
 */
export async function observeServers(config: Config, names: readonly string[]): Promise<Map<string, Observation>> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-observe-'));
  try {
    const entries = await Promise.all(
      names.map(async (name, i): Promise<[string, Observation]> => {
        let gateway: Gateway | undefined;
        try {
          gateway = await Gateway.start({ config: { ...config, servers: { [name]: config.servers[name] } }, dataDir: join(dir, String(i)), guards: [], admission: false });
          return [name, { snapshot: await gateway.offer(name) }];
        } catch (error) {
          return [name, { error: firstLine(error) }];
        } finally {
          await gateway?.close().catch(() => {});
        }
      }),
    );
    return new Map(entries);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
}
