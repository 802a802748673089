import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { readClientConfig, resolveConfigPaths, ScanUsageError } from '../admission/client-config.js';
import { importClientConfig, type ImportResult } from '../admission/import.js';

/**
 * `portcullis import PATH`: a client config (Claude Desktop, Cursor, VS Code)
 * into a Portcullis config, printed (or written with --out) together with the
 * client config that launches the gateway instead. Exit 2 on a usage error.
 */
export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description('turn a Claude Desktop, Cursor or VS Code MCP config into a Portcullis config, and print the client config that points the client at the gateway')
    .argument('<path>', 'the client config file (or a directory holding exactly one)')
    .option('--out <file>', 'write the Portcullis config to this file instead of printing it')
    .option('--force', 'let --out overwrite an existing file')
    .option('--identity <name>', 'identity the client acts as (default: named after the client: claude-desktop, cursor, vscode)')
    .option('--data <dir>', 'data directory the gateway is started with (default: portcullis-data beside the config)')
    .action(async (path: string, opts: { out?: string; force?: boolean; identity?: string; data?: string }) => {
      const file = await onlyConfig(path);
      const configPath = resolve(opts.out ?? 'portcullis.yaml');
      const main = fileURLToPath(new URL('./main.js', import.meta.url));
      const result = importClientConfig(await readClientConfig(file), {
        configPath,
        dataDir: resolve(opts.data ?? join(dirname(configPath), 'portcullis-data')),
        identity: opts.identity,
        gateway: { command: process.execPath, args: [main] },
      });
      if (main.includes('/_npx/')) {
        result.notes.push('the client entry runs this copy of portcullis from the npx cache, which npx may clear: install portcullis (npm install -g portcullis@<version>) and point "command" at it');
      }
      if (opts.out) {
        try {
          await writeFile(configPath, result.yaml, { flag: opts.force ? 'w' : 'wx' });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST') usage(`${opts.out} exists; pass --force to overwrite it, or choose another --out`);
          throw error;
        }
        process.stdout.write(`wrote ${configPath}: ${result.servers.length} server${result.servers.length === 1 ? '' : 's'} (${result.servers.join(', ')}), identity ${result.identity}\n\n${clientText(result, file, configPath)}`);
      } else {
        // Everything after the config is a YAML comment, so `portcullis import … > portcullis.yaml` still loads.
        process.stdout.write(`${result.yaml}\n${clientText(result, file, configPath).trimEnd().replace(/^/gm, '# ').replace(/# $/gm, '#')}\n`);
      }
    });
}

function clientText(result: ImportResult, file: string, configPath: string): string {
  const key = result.client.kind === 'vscode' ? '"servers" (and "inputs")' : '"mcpServers"';
  const lines = [
    `${result.client.name}: replace ${key} in ${file} with the gateway (save the Portcullis config as ${configPath} first):`,
    JSON.stringify(result.client.config, null, 2),
  ];
  if (result.notes.length > 0) lines.push('', 'Notes:', ...result.notes.map((n) => `- ${n}`));
  return lines.join('\n') + '\n';
}

/** The one client config at `path`: a file, or the only one in a directory. */
async function onlyConfig(path: string): Promise<string> {
  let files: string[];
  try {
    ({ files } = await resolveConfigPaths([path]));
  } catch (error) {
    if (error instanceof ScanUsageError) usage(error.message);
    throw error;
  }
  if (files.length === 1) return files[0];
  usage(files.length === 0 ? `${path}: no client config (claude_desktop_config.json, .cursor/mcp.json, .vscode/mcp.json, mcp.json) found` : `${path} holds ${files.length} client configs (${files.join(', ')}); name one file`);
}

function usage(message: string): never {
  process.stderr.write(`portcullis import: ${message}\n`);
  process.exit(2);
}
