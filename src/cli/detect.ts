/** `portcullis detect`: the injection detector on JSON lines, for pipelines and for checking tool descriptions. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { runDetectCli } from '../screening/index.js';

const score = (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n >= 1) throw new InvalidArgumentError('threshold must be a number between 0 and 1 (0.5 is the calibrated default)');
  return n;
};

export function registerDetectCommand(program: Command): void {
  program
    .command('detect')
    .description('score texts for prompt injection: JSON lines {"id": …, "text": "…"} on stdin, one {"id", "score", "flagged", "reasons"} line per input on stdout (the text is never echoed)')
    .addOption(new Option('--kind <kind>', 'what the texts are: a tool\'s output or a tool\'s description (admission screening)').choices(['tool_output', 'tool_description']).default('tool_output'))
    .addOption(new Option('--threshold <score>', 'flag from this score instead of the calibrated 0.5').argParser(score))
    .action(async (opts: { kind: 'tool_output' | 'tool_description'; threshold?: number }) => {
      const summary = await runDetectCli(process.stdin, process.stdout, opts.kind, { threshold: opts.threshold });
      // stdout carries only the verdicts; the tally is for the person at the terminal.
      process.stderr.write(`portcullis detect: ${summary.lines} texts, ${summary.flagged} flagged, ${summary.errors} unreadable lines\n`);
      if (summary.errors > 0) process.exitCode = 1;
    });
}
