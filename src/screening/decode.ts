/**
 * Decoding of encoded payloads found in a text, so that what a model would
 * decode for itself is screened too. Only base64 for now: the tokeniser already
 * reports runs of the base64 alphabet; a run is decoded when it is a plausible
 * encoding of human-readable UTF-8 text (not an image or a hash).
 */

/** Runs longer than this are not decoded (images and archives, not prose). */
const MAX_RUN = 16_384;
const MAX_RUNS = 16;

/** Decode the base64 runs [start, end) pairs of `text`; returns the decoded texts worth screening. */
export function decodeBase64Runs(text: string, runs: readonly number[]): string[] {
  const out: string[] = [];
  for (let k = 0; k + 1 < runs.length && out.length < MAX_RUNS; k += 2) {
    const a = runs[k];
    const b = runs[k + 1];
    if (b - a > MAX_RUN) continue;
    let s = text.slice(a, b);
    // Needs both cases or digits: plain long words are not base64.
    if (!/[A-Z]/.test(s) || !/[a-z]/.test(s)) continue;
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    const buf = Buffer.from(s, 'base64');
    if (buf.length < 12) continue;
    const decoded = plausibleText(buf);
    if (decoded !== undefined) out.push(decoded);
  }
  return out;
}

/** UTF-8 text with mostly letters and spaces, else undefined. */
export function plausibleText(buf: Buffer): string | undefined {
  let printable = 0;
  let spaces = 0;
  const n = Math.min(buf.length, 4096);
  for (let i = 0; i < n; i++) {
    const c = buf[i];
    if (c === 32) spaces++;
    if ((c >= 32 && c < 127) || c === 9 || c === 10 || c === 13 || c >= 0x80) printable++;
  }
  if (printable < n * 0.95) return undefined;
  const text = buf.toString('utf8');
  if (text.includes('\ufffd')) return undefined;
  // Prose has spaces (or is CJK); random bytes that happen to be printable rarely do.
  const cjk = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/.test(text);
  if (spaces < n / 25 && !cjk) return undefined;
  return text;
}
