import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { compileSchema } from '../schema/ajv.js';
import { definitionDigest } from '../admission/lock.js';
import type { CatalogTool } from '../pipeline/types.js';
import type { Naming } from './naming.js';

/**
 * What the gateway knows of each upstream's tools. Input and output schemas are
 * compiled here, once per tool definition, so a call and its structured result
 * are validated with a function call (compiling per call would put
 * milliseconds on the hot path).
 */
export class ToolCatalog {
  readonly #byServer = new Map<string, Map<string, CatalogTool>>();
  readonly #fingerprints = new Map<CatalogTool, string>();

  constructor(private readonly naming: Naming) {}

  /** Replaces a server's whole tool set (after a full tools/list walk). */
  replace(server: string, tools: Tool[]): { added: string[]; changed: string[]; removed: string[] } {
    const before = this.#byServer.get(server) ?? new Map<string, CatalogTool>();
    const next = new Map<string, CatalogTool>();
    const added: string[] = [];
    const changed: string[] = [];
    for (const def of tools) {
      const old = before.get(def.name);
      const entry = this.#entry(server, def, old);
      if (!old) added.push(def.name);
      else if (entry !== old) changed.push(def.name);
      next.set(def.name, entry);
    }
    const removed = [...before.keys()].filter((n) => !next.has(n));
    this.#byServer.set(server, next);
    return { added, changed, removed };
  }

  /** Merges tools seen on one page of a client's tools/list. */
  update(server: string, tools: Tool[]): CatalogTool[] {
    let map = this.#byServer.get(server);
    if (!map) this.#byServer.set(server, (map = new Map()));
    return tools.map((def) => {
      const entry = this.#entry(server, def, map!.get(def.name));
      map!.set(def.name, entry);
      return entry;
    });
  }

  get(server: string, name: string): CatalogTool | undefined {
    return this.#byServer.get(server)?.get(name);
  }

  tools(server: string): CatalogTool[] {
    return [...(this.#byServer.get(server)?.values() ?? [])];
  }

  #entry(server: string, def: Tool, old: CatalogTool | undefined): CatalogTool {
    const fingerprint = JSON.stringify(def);
    if (old && this.#fingerprints.get(old) === fingerprint) return old;
    let validateInput: CatalogTool['validateInput'];
    let schemaError: string | undefined;
    try {
      validateInput = compileSchema((def.inputSchema ?? { type: 'object' }) as Record<string, unknown>);
    } catch (error) {
      schemaError = (error as Error).message;
    }
    let validateOutput: CatalogTool['validateOutput'];
    let outputSchemaError: string | undefined;
    if (def.outputSchema !== undefined) {
      try {
        validateOutput = compileSchema(def.outputSchema as Record<string, unknown>);
      } catch (error) {
        outputSchemaError = (error as Error).message;
      }
    }
    const entry: CatalogTool = Object.freeze({
      server,
      name: def.name,
      exposedName: this.naming.expose(server, def.name),
      definition: def,
      digest: definitionDigest(def),
      validateInput,
      schemaError,
      ...(validateOutput ? { validateOutput } : {}),
      ...(outputSchemaError !== undefined ? { outputSchemaError } : {}),
    });
    if (old) this.#fingerprints.delete(old);
    this.#fingerprints.set(entry, fingerprint);
    return entry;
  }
}
