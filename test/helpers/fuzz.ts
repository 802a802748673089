/**
 * Short pseudo-random strings for equivalence tests (a fast check against the
 * expression it replaced): characters from `alphabet`, about a third with one
 * of `pieces` (the triggers worth hitting) at the start or the end. Seeded,
 * so a failure names a string that fails again.
 */
export function* fuzzStrings(seed: number, alphabet: string, pieces: readonly string[], count: number): Generator<string> {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < count; i++) {
    let s = '';
    for (let n = 1 + (i % 12); n > 0; n--) s += alphabet[Math.floor(next() * alphabet.length)];
    const piece = pieces[i % pieces.length];
    if (next() < 0.4) s = next() < 0.5 ? s + piece : piece + s;
    yield s;
  }
}
