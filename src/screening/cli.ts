/**
 * `portcullis detect`: JSON lines in, JSON lines out.
 *
 *   in:  {"id": …, "text": "…"}            (one object per line)
 *   out: {"id": …, "score": 0.97, "flagged": true, "reasons": ["rule:…", …]}
 *
 * One output line per input line, in order. A line that is not a JSON object
 * with a string `text` gets `{"id": <id or null>, "error": "…"}` and the run
 * goes on. Blank lines are skipped. The text itself is never echoed.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { detectInjection, type TextKind } from './detector.js';

export interface DetectCliSummary {
  lines: number;
  flagged: number;
  errors: number;
}

export async function runDetectCli(stdin: Readable, stdout: Writable, kind: TextKind = 'tool_output', opts: { threshold?: number } = {}): Promise<DetectCliSummary> {
  if (kind !== 'tool_output' && kind !== 'tool_description') throw new Error(`unknown --kind ${String(kind)} (tool_output or tool_description)`);
  const rl = createInterface({ input: stdin, crlfDelay: Infinity });
  const summary: DetectCliSummary = { lines: 0, flagged: 0, errors: 0 };
  for await (const line of rl) {
    if (!line.trim()) continue;
    summary.lines++;
    let out: Record<string, unknown>;
    try {
      const rec = JSON.parse(line) as unknown;
      if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) throw new Error('each line must be a JSON object');
      const { id, text } = rec as { id?: unknown; text?: unknown };
      if (typeof text !== 'string') {
        out = { id: id ?? null, error: 'missing string field "text"' };
        summary.errors++;
      } else {
        const d = detectInjection(text, { kind, threshold: opts.threshold });
        if (d.flagged) summary.flagged++;
        out = { id: id ?? null, score: d.score, flagged: d.flagged, reasons: d.reasons };
      }
    } catch (e) {
      out = { id: null, error: `invalid JSON line: ${(e as Error).message}` };
      summary.errors++;
    }
    if (!stdout.write(`${JSON.stringify(out)}\n`)) await new Promise<void>((r) => stdout.once('drain', () => r()));
  }
  return summary;
}
