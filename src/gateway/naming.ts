import type { Config } from '../config/schema.js';

/**
 * Maps upstream names to the names a client sees and back. Prefixed servers
 * expose "<server><sep><name>"; at most one server keeps its names unchanged
 * (the config loader enforces that, and that prefixes cannot overlap), so every
 * exposed name resolves to exactly one server.
 */
export class Naming {
  readonly separator: string;
  readonly #prefixed: string[];
  readonly unprefixed: string | undefined;

  constructor(config: Config) {
    this.separator = config.tool_name_separator;
    this.#prefixed = Object.keys(config.servers).filter((s) => config.servers[s].prefix);
    this.unprefixed = Object.keys(config.servers).find((s) => !config.servers[s].prefix);
  }

  expose(server: string, name: string): string {
    return server === this.unprefixed ? name : `${server}${this.separator}${name}`;
  }

  resolve(exposed: string): { server: string; name: string } | undefined {
    for (const s of this.#prefixed) {
      if (exposed.startsWith(s + this.separator) && exposed.length > s.length + this.separator.length) {
        return { server: s, name: exposed.slice(s.length + this.separator.length) };
      }
    }
    return this.unprefixed === undefined ? undefined : { server: this.unprefixed, name: exposed };
  }

  /** An unprefixed server's name that reads as another server's exposed name would shadow it. */
  collides(server: string, name: string): boolean {
    return server === this.unprefixed && this.resolve(name)?.server !== server;
  }
}
