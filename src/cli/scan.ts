import type { Command } from 'commander';
import type { ScanFormat, Severity } from '../admission/index.js';

/**
 * `portcullis scan [PATH…]`: checks the MCP servers in Claude Desktop, Cursor
 * and VS Code configs (the current user's default locations without PATH).
 * Exit 1 when a finding at or above --fail-on exists, 2 on a usage error.
 */
export function registerScanCommand(program: Command): void {
  program
    .command('scan')
    .description('check MCP client configs (Claude Desktop, Cursor, VS Code) for unpinned packages, typosquats, inline secrets, unsandboxed servers and plain-HTTP remotes; --connect also checks what each server offers for poisoning')
    .argument('[paths...]', 'config files or directories holding them (default: the current user\'s client configs)')
    .option('--json', 'print JSON')
    .option('--sarif', 'print SARIF 2.1.0 (for CI code scanning)')
    .option('--connect', 'also start each server (sandboxed, no network) and check its tools, prompts and instructions for poisoning')
    .option('--fail-on <severity>', 'exit 1 when a finding at or above this severity (error, warning or note) exists', 'error')
    .action(async (paths: string[], opts: { json?: boolean; sarif?: boolean; connect?: boolean; failOn: Severity }) => {
      // Loaded when the command runs: a gateway process never scans client configs.
      const { SEVERITIES, ScanUsageError, renderScan, reachesSeverity, scanClientConfigs } = await import('../admission/index.js');
      if (!SEVERITIES.includes(opts.failOn)) usage(`--fail-on must be one of ${SEVERITIES.join(', ')}, not "${opts.failOn}"`);
      if (opts.json && opts.sarif) usage('--json and --sarif cannot be used together');
      const format: ScanFormat = opts.sarif ? 'sarif' : opts.json ? 'json' : 'table';
      let report;
      try {
        report = await scanClientConfigs(paths, process.cwd(), { connect: opts.connect });
      } catch (error) {
        if (error instanceof ScanUsageError) usage(error.message);
        throw error;
      }
      if (format !== 'table') for (const n of report.notes) process.stderr.write(`portcullis: note: ${n}\n`);
      process.stdout.write(renderScan(report, format));
      process.exitCode = reachesSeverity(report.findings, opts.failOn) ? 1 : 0;
    });
}

function usage(message: string): never {
  process.stderr.write(`portcullis scan: ${message}\n`);
  process.exit(2);
}
