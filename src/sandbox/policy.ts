import { realpathSync } from 'node:fs';
import type { SandboxPolicyConfig } from '../config/schema.js';
import { expandPath } from './env.js';
import { contains } from './bubblewrap/runtime.js';
import type { SandboxPolicy } from './types.js';

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * Turns a server's sandbox config into a policy, refusing what must never be
 * granted: a declared path that contains (or lies inside) the gateway's data
 * dir, where the audit log and the signing keys live. Errors name the config
 * path and say what to change.
 */
export function buildPolicy(server: string, config: SandboxPolicyConfig, context: { dataDir: string; secretFiles?: readonly string[] }): SandboxPolicy {
  const dataDir = real(expandPath(context.dataDir));
  const check = (list: 'read_only' | 'read_write') =>
    config.filesystem[list].map((declared, i) => {
      const at = `servers.${server}.sandbox.filesystem.${list}[${i}]`;
      const path = expandPath(declared);
      const resolved = real(path);
      if (contains(resolved, dataDir)) {
        throw new Error(`${at}: ${declared} contains the gateway's data dir ${dataDir} (audit log and signing keys), which no sandbox may see; declare a narrower directory, or move the data dir elsewhere (--data)`);
      }
      if (contains(dataDir, resolved)) {
        throw new Error(`${at}: ${declared} is inside the gateway's data dir ${dataDir} (audit log and signing keys), which no sandbox may see; use a directory outside it`);
      }
      return path;
    });
  return {
    filesystem: { readOnly: check('read_only'), readWrite: check('read_write') },
    network: config.network === 'none' ? 'none' : { allow: [...config.network.allow] },
    limits: { ...config.limits },
    hidden: [...new Set([dataDir, ...(context.secretFiles ?? []).map(real)])],
  };
}
