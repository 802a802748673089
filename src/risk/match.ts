import picomatch from 'picomatch';

const compiled = new Map<string, (name: string) => boolean>();

function matcher(glob: string): (name: string) => boolean {
  let m = compiled.get(glob);
  if (!m) {
    if (compiled.size > 10_000) compiled.clear();
    m = picomatch(glob, { dot: true });
    compiled.set(glob, m);
  }
  return m;
}

/**
 * Entries of a tool-keyed config map that apply to `name`: the exact key alone
 * when there is one, else every glob key that matches, in the order written.
 */
export function matchingEntries<V>(map: Readonly<Record<string, V>> | undefined, name: string): [string, V][] {
  if (!map) return [];
  if (Object.hasOwn(map, name)) return [[name, map[name]]];
  return Object.entries(map).filter(([key]) => key !== name && /[*?[\]{}()!+@]/.test(key) && matcher(key)(name));
}
