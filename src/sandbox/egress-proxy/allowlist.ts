/**
 * The egress allowlist: exact "host:port" pairs, or "*.domain:port" for any
 * subdomain. Names are compared as written (case-insensitive, trailing dot
 * ignored), never after resolution: allowing a name does not allow the
 * addresses it resolves to under another name, and a refused name is never
 * resolved (no DNS lookups as a side channel).
 */
export interface EgressRule {
  /** Lower-case host, without brackets for IPv6; for a wildcard, the suffix after "*.". */
  host: string;
  wildcard: boolean;
  port: number;
  source: string;
}

export function parseRule(source: string): EgressRule {
  const colon = source.lastIndexOf(':');
  if (colon <= 0) throw new Error(`"${source}" is not host:port`);
  let host = source.slice(0, colon).toLowerCase();
  const port = Number(source.slice(colon + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`"${source}": the port must be 1..65535`);
  const wildcard = host.startsWith('*.');
  if (wildcard) host = host.slice(2);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host: normaliseHost(host), wildcard, port, source };
}

export function normaliseHost(host: string): string {
  let h = host.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

export class Allowlist {
  readonly rules: readonly EgressRule[];
  constructor(entries: readonly string[]) {
    this.rules = entries.map(parseRule);
  }

  /** The rule allowing host:port, or undefined (refused). */
  match(host: string, port: number): EgressRule | undefined {
    const h = normaliseHost(host);
    return this.rules.find((r) => r.port === port && (r.wildcard ? h.endsWith('.' + r.host) : h === r.host));
  }
}

/** Splits a CONNECT authority ("host:port", "[v6]:port"); undefined if malformed. */
export function parseAuthority(authority: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]/\s]+):(\d{1,5})$/.exec(authority);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: normaliseHost(m[1]), port };
}
