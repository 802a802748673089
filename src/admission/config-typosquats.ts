/**
 * Typosquat suspects among the servers of a Portcullis config, for the config
 * loader (`config check`, `serve`, `stdio`): server names compared with each
 * other, and what each stdio server launches (the npm/PyPI package or image
 * behind npx, uvx, docker run…, else the command itself) with the other
 * servers' and the shipped list of well-known packages.
 */
import { basename } from 'node:path';
import { KNOWN_NPM_PACKAGES, KNOWN_PYPI_PACKAGES } from './known-servers.js';
import { analyseLaunch } from './launch.js';
import { packageSquatMessage, serverNameSquatMessage, typosquatSuspects } from './typosquat.js';

export interface ConfigTyposquat {
  /** Config path of the suspect value: `['servers', name]` or `['servers', name, 'args', 1]`. */
  at: (string | number)[];
  /** The name the user probably meant. */
  intended: string;
  message: string;
}

/** Known names a bare command (an installed server binary) is compared with. */
const KNOWN_COMMANDS = [...KNOWN_PYPI_PACKAGES, ...KNOWN_NPM_PACKAGES.filter((p) => !p.startsWith('@'))];

/** A configured server: stdio (a command) or remote (a URL). */
export type ConfiguredServerLike = { command: string; args?: readonly string[] } | { url: string };

export function findConfigTyposquats(servers: Readonly<Record<string, ConfiguredServerLike>>): ConfigTyposquat[] {
  const out: ConfigTyposquat[] = [];
  const names = Object.keys(servers);
  for (const [name, match] of typosquatSuspects(names, [])) out.push({ at: ['servers', name], intended: match.intended, message: serverNameSquatMessage(name, match) });

  const launched = names.flatMap((server) => {
    const s = servers[server];
    if (!('command' in s)) return [];
    const { command, args = [] } = s;
    const launch = analyseLaunch(command, [...args]);
    if (launch) return [{ server, ecosystem: launch.ecosystem as string, name: launch.name, at: ['servers', server, 'args', launch.argIndex] }];
    return [{ server, ecosystem: 'command', name: basename(command).replace(/\.(?:cmd|exe|bat)$/i, ''), at: ['servers', server, 'command'] }];
  });
  const shipped: Record<string, readonly string[]> = { npm: KNOWN_NPM_PACKAGES, pypi: KNOWN_PYPI_PACKAGES, command: KNOWN_COMMANDS, docker: [] };
  for (const [ecosystem, known] of Object.entries(shipped)) {
    const mine = launched.filter((l) => l.ecosystem === ecosystem);
    const suspects = typosquatSuspects(mine.map((l) => l.name), known);
    for (const l of mine) {
      const match = suspects.get(l.name);
      if (match) out.push({ at: l.at, intended: match.intended, message: packageSquatMessage(l.name, match) });
    }
  }
  return out;
}
