import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Config } from '../config/schema.js';
import { observeServers } from '../gateway/observe.js';
import { Naming } from '../gateway/naming.js';
import type { Identity } from '../policy/identity.js';
import { RiskModel } from './model.js';
import { TIERS, type Gate, type Tier, type ToolRating } from './types.js';

export interface InventoryAccess {
  readonly identity: string;
  readonly gate: 'allowed' | 'approval' | 'denied';
  /** rule: requires_human_approval_on; tier: the tier's gate. */
  readonly triggers: readonly ('rule' | 'tier')[];
  readonly rule?: string;
  /** Allowed by a glob (not named explicitly), which matters to *-unless-explicit gates. */
  readonly explicit: boolean;
}

/** A tool's rating plus what the inventory adds: its exposed name and who may call it. */
export interface InventoryTool extends ToolRating {
  readonly exposed: string;
  readonly access: readonly InventoryAccess[];
}

export interface InventoryServer {
  readonly name: string;
  readonly status: 'ok' | 'unreachable';
  readonly error?: string;
  readonly tools: number;
  readonly trustAnnotations: boolean;
}

export interface Inventory {
  readonly mode: 'development' | 'production';
  readonly gates: Readonly<Record<Tier, Gate>>;
  readonly servers: readonly InventoryServer[];
  readonly identities: readonly string[];
  /** Most dangerous first, then by server and tool. */
  readonly tools: readonly InventoryTool[];
  readonly counts: Readonly<Record<Tier, number>>;
}

export interface ServerTools {
  readonly tools?: readonly Tool[];
  readonly error?: string;
}

/**
 * Connects to every configured server (each on its own, so one that fails to
 * start is reported rather than sinking the report), reads its tool list and
 * rates it. Nothing is called; the servers only see initialize and their lists.
 */
export async function collectInventory(config: Config, identities: ReadonlyMap<string, Identity>): Promise<Inventory> {
  const observed = await observeServers(config, Object.keys(config.servers));
  const tools = new Map<string, ServerTools>();
  for (const [name, o] of observed) tools.set(name, 'error' in o ? { error: o.error } : { tools: o.snapshot.tools as Tool[] });
  return buildInventory(config, identities, tools);
}

/** The report from tool lists already in hand (pure and deterministic). */
export function buildInventory(config: Config, identities: ReadonlyMap<string, Identity>, tools: ReadonlyMap<string, ServerTools>): Inventory {
  const model = new RiskModel(config);
  const naming = new Naming(config);
  const identityNames = [...identities.keys()].sort();
  const servers: InventoryServer[] = [];
  const rows: InventoryTool[] = [];
  for (const name of Object.keys(config.servers).sort()) {
    const listed = tools.get(name) ?? { error: 'not connected' };
    const defs = [...(listed.tools ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    servers.push({
      name,
      status: listed.error === undefined ? 'ok' : 'unreachable',
      ...(listed.error !== undefined ? { error: listed.error } : {}),
      tools: defs.length,
      trustAnnotations: model.policyFor(name).risk?.trust_annotations === true,
    });
    for (const definition of defs) {
      const rating = model.rate({ server: name, name: definition.name, definition });
      const access: InventoryAccess[] = [];
      for (const id of identityNames) {
        const identity = identities.get(id)!;
        if (!identity.toolAccess(name, definition.name).allowed) continue;
        const g = model.gate(identity, rating);
        access.push({ identity: id, gate: g.gate, triggers: g.triggers, ...(g.rule ? { rule: g.rule } : {}), explicit: g.explicit });
      }
      rows.push({ ...rating, exposed: naming.expose(name, definition.name), access });
    }
  }
  const rank = (t: Tier) => TIERS.indexOf(t);
  rows.sort((a, b) => rank(b.tier.value) - rank(a.tier.value) || cmp(a.server, b.server) || cmp(a.tool, b.tool));
  const counts = Object.fromEntries(TIERS.map((t) => [t, rows.filter((r) => r.tier.value === t).length])) as Record<Tier, number>;
  return { mode: config.mode, gates: model.gates, servers, identities: identityNames, tools: rows, counts };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
