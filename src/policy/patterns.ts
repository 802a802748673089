import picomatch from 'picomatch';

/**
 * A tool or prompt pattern as written in policy: "server.name" or "name".
 * The first dot separates the server part, so a dotted tool name on any
 * server is written "*.files.read". Both parts are globs.
 */
export interface NamePattern {
  readonly source: string;
  /** null: the pattern applies to that name on every server. */
  readonly server: string | null;
  readonly name: string;
  matches(server: string, name: string): boolean;
}

const GLOB_CHARS = /[*?[\]{}()!+@]/;

export function isGlob(text: string): boolean {
  return GLOB_CHARS.test(text);
}

export function parseNamePattern(source: string): NamePattern {
  const dot = source.indexOf('.');
  const server = dot === -1 ? null : source.slice(0, dot);
  const name = dot === -1 ? source : source.slice(dot + 1);
  const matchServer = server === null ? () => true : picomatch(server, { dot: true });
  const matchName = picomatch(name, { dot: true });
  return Object.freeze({
    source,
    server,
    name,
    matches: (s: string, n: string) => matchServer(s) && matchName(n),
  });
}

/** A resource URI glob; "**" crosses "/" and "*" does not. */
export interface UriPattern {
  readonly source: string;
  matches(uri: string): boolean;
}

export function parseUriPattern(source: string): UriPattern {
  const m = picomatch(source, { dot: true });
  return Object.freeze({ source, matches: (uri: string) => m(uri) });
}

export function firstMatch<P>(
  patterns: readonly P[],
  test: (p: P) => boolean,
): P | undefined {
  for (const p of patterns) if (test(p)) return p;
  return undefined;
}
