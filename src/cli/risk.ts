import { Option, type Command } from 'commander';
import { stringify } from 'yaml';
import { loadConfigFile, parseConfig } from '../config/load.js';
import type { RiskFormat } from '../risk/render.js';

/**
 * `portcullis risk`: every tool of every configured server with its permission,
 * blast radius, reversibility, tier, the source of each answer, and which
 * identities can call it under which gate. Connects to the servers to list
 * their tools (nothing is called). Exit 1 when a server could not be reached.
 */
export function registerRiskCommand(program: Command): void {
  program
    .command('risk')
    .description('rate every tool of every configured server (permission, blast radius, reversibility, tier) and show who may call it under which gate')
    .option('--config <file>', 'config file (YAML or JSON)', 'portcullis.yaml')
    .option('--demo', 'rate the embedded demo configuration instead of a config file')
    .option('--json', 'print JSON (same as --format json)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'md', 'html']).default('table'))
    .action(async (opts: { config: string; demo?: boolean; json?: boolean; format: RiskFormat }) => {
      // Loaded when the command runs: a gateway process never renders a risk report.
      const [{ demoConfig }, { collectInventory }, { renderInventory }] = await Promise.all([import('../demo/config.js'), import('../risk/inventory.js'), import('../risk/render.js')]);
      const loaded = opts.demo ? parseConfig(stringify(demoConfig()), 'embedded demo config') : await loadConfigFile(opts.config);
      const inventory = await collectInventory(loaded.config, loaded.identities);
      process.stdout.write(renderInventory(inventory, opts.json ? 'json' : opts.format));
      const down = inventory.servers.filter((s) => s.status !== 'ok');
      for (const s of down) process.stderr.write(`portcullis: server ${s.name} could not be reached, so its tools are not rated: ${s.error}\n`);
      process.exitCode = down.length > 0 ? 1 : 0;
    });
}
