/**
 * `portcullis approvals ...`: the out-of-band approval queue from the command
 * line: held calls and quarantined outputs. It reads and writes <data>/approvals/ directly, so local access to the
 * data directory is itself the approver credential; --as names the approver
 * (it must be in approvals.approvers) and is recorded with the OS user.
 * The running gateway notices a decision within about a second and audits it.
 */
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { checkApprover } from '../approvals/broker.js';
import { issueApproverToken } from '../approvals/credentials.js';
import { describeRisk, describeTrigger } from '../approvals/elicitation.js';
import { ApprovalStore } from '../approvals/store.js';
import type { ApprovalView } from '../approvals/types.js';
import { loadOrCreateSigningKey } from '../auth/index.js';
import { loadConfigFile } from '../config/load.js';

const DEFAULT_CONFIG = 'portcullis.yaml';
const DEFAULT_DATA = 'portcullis-data';

const seconds = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 86_400) throw new InvalidArgumentError('ttl must be an integer in 1..86400');
  return n;
};

export function registerApprovalsCommands(program: Command): void {
  const approvals = program
    .command('approvals')
    .description('human approval of held calls: list, show, approve or deny queued requests (local access to the data dir is the approver credential)');

  approvals
    .command('list')
    .description('queued requests still pending or approved-and-unused (--all: every request)')
    .option('--data <dir>', 'data directory of the gateway', DEFAULT_DATA)
    .option('--all', 'include denied, expired and used requests')
    .option('--json', 'print JSON')
    .action(async (opts: { data: string; all?: boolean; json?: boolean }) => {
      const views = await new ApprovalStore(resolve(opts.data)).list({ all: opts.all });
      if (opts.json) return void process.stdout.write(JSON.stringify(views, null, 2) + '\n');
      if (views.length === 0) return void process.stdout.write(`no ${opts.all ? '' : 'open '}approval requests in ${resolve(opts.data)}\n`);
      const rows = views.map((v) => [v.id, v.status, v.expiresAt, v.binding.identity, `${v.binding.server}.${v.binding.tool}`, v.trigger.rule ?? v.trigger.code]);
      const head = ['ID', 'STATUS', 'EXPIRES', 'IDENTITY', 'TOOL', 'TRIGGER'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      for (const r of [head, ...rows]) process.stdout.write(r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n');
    });

  approvals
    .command('show')
    .description('one request: the exact call, what held it, its risk rating and status (--output: a quarantined output itself)')
    .argument('<id>', 'approval id (ap_...)')
    .option('--data <dir>', 'data directory of the gateway', DEFAULT_DATA)
    .option('--json', 'print JSON')
    .option('--output', 'also print the withheld output of a quarantine request (sanitised, secrets redacted), to read before releasing it')
    .action(async (id: string, opts: { data: string; json?: boolean; output?: boolean }) => {
      const store = new ApprovalStore(resolve(opts.data));
      const view = await store.get(id);
      if (!view) throw new Error(`no approval request ${id} in ${resolve(opts.data)}`);
      const output = opts.output ? await store.output(id) : undefined;
      if (opts.output && !output) throw new Error(`${id} has no withheld output (only OUTPUT_QUARANTINED requests have one)`);
      if (opts.json) return void process.stdout.write(JSON.stringify(output ? { ...view, output } : view, null, 2) + '\n');
      process.stdout.write(describe(view) + (output ? `  output     ${JSON.stringify(output, null, 2).replace(/\n/g, '\n  ')}\n` : ''));
    });

  for (const [name, decision] of [['approve', 'approved'], ['deny', 'denied']] as const) {
    approvals
      .command(name)
      .description(`${name} a queued request; the agent's retry of the exact call then ${name === 'approve' ? 'runs once' : 'is refused'}`)
      .argument('<id>', 'approval id (ap_...)')
      .requiredOption('--as <approver>', 'who decides: a name in approvals.approvers (never an agent identity)')
      .option('--reason <text>', 'why, for the audit log')
      .option('--config <file>', 'config file (YAML or JSON)', DEFAULT_CONFIG)
      .option('--data <dir>', 'data directory of the gateway', DEFAULT_DATA)
      .action(async (id: string, opts: DecideOptions) => {
        const view = await decideAs(id, decision, opts);
        process.stdout.write(`${view.id} ${decision} by ${opts.as}: ${view.binding.server}.${view.binding.tool} for ${view.binding.identity} (expires ${view.expiresAt})\n`);
      });
  }

  approvals
    .command('release')
    .description('release a quarantined output (OUTPUT_QUARANTINED) after reading it (show --output); the agent\'s retry of the exact call with _meta {"portcullis/release": id} then receives it once')
    .argument('<id>', 'quarantine id (ap_...)')
    .requiredOption('--as <approver>', 'who releases: a name in approvals.approvers (never an agent identity)')
    .option('--reason <text>', 'why, for the audit log')
    .option('--config <file>', 'config file (YAML or JSON)', DEFAULT_CONFIG)
    .option('--data <dir>', 'data directory of the gateway', DEFAULT_DATA)
    .action(async (id: string, opts: DecideOptions) => {
      const view = await decideAs(id, 'approved', opts, (found) => {
        if (found.trigger.code !== 'OUTPUT_QUARANTINED') throw new Error(`${id} holds a call, not an output; decide it with "portcullis approvals approve|deny"`);
      });
      process.stdout.write(`${view.id} released by ${opts.as}: output of ${view.binding.server}.${view.binding.tool} for ${view.binding.identity} (fetch before ${view.expiresAt})\n`);
    });

  approvals
    .command('token')
    .description('print a bearer token for the HTTP admin API (/admin/approvals); agent tokens are refused there')
    .requiredOption('--as <approver>', 'a name in approvals.approvers')
    .addOption(new Option('--ttl <seconds>', 'lifetime').argParser(seconds).default(900))
    .option('--config <file>', 'config file (YAML or JSON)', DEFAULT_CONFIG)
    .option('--data <dir>', 'data directory holding the signing key', DEFAULT_DATA)
    .action(async (opts: { as: string; ttl: number; config: string; data: string }) => {
      const loaded = await loadConfigFile(opts.config);
      checkApprover(opts.as, loaded.config.approvals.approvers, (n) => loaded.identities.has(n));
      const key = await loadOrCreateSigningKey(resolve(opts.data));
      const jwt = await issueApproverToken(key, { approver: opts.as, ttlSeconds: opts.ttl, audience: loaded.config.tokens.audience, issuer: loaded.config.tokens.issuer });
      process.stdout.write(jwt + '\n');
    });
}

interface DecideOptions {
  as: string;
  reason?: string;
  config: string;
  data: string;
}

/**
 * Records a decision from the command line: the name must be a configured
 * approver (never an agent identity), and the local account is kept as evidence,
 * since access to the data dir is the credential here.
 */
async function decideAs(id: string, decision: 'approved' | 'denied', opts: DecideOptions, check?: (found: ApprovalView) => void): Promise<ApprovalView> {
  const loaded = await loadConfigFile(opts.config);
  checkApprover(opts.as, loaded.config.approvals.approvers, (n) => loaded.identities.has(n));
  const store = new ApprovalStore(resolve(opts.data));
  if (check) {
    const found = await store.get(id);
    if (found) check(found);
  }
  return store.decide(id, decision, {
    name: opts.as,
    channel: 'cli',
    ...(opts.reason ? { reason: opts.reason } : {}),
    evidence: { osUser: safeUser(), host: hostname(), pid: String(process.pid) },
  });
}

function describe(v: ApprovalView): string {
  const lines = [
    `${v.id}  ${v.status.toUpperCase()}`,
    `  identity   ${v.binding.identity} (session ${v.binding.session})`,
    `  tool       ${v.binding.server}.${v.binding.tool} (called as ${v.exposedName})`,
    `  arguments  ${JSON.stringify(v.arguments)}`,
    `  args hash  sha256:${v.binding.argumentsSha256}`,
    `  held by    ${describeTrigger(v.trigger)}`,
    `  risk       ${describeRisk(v.risk)}`,
    `  created    ${v.createdAt}`,
    `  expires    ${v.expiresAt}`,
  ];
  if (v.decision) lines.push(`  decision   ${v.decision.decision} by ${v.decision.approver} via ${v.decision.channel} at ${v.decision.decidedAt}${v.decision.reason ? `: ${v.decision.reason}` : ''}`);
  if (v.consumed) lines.push(`  used       ${v.consumed.consumedAt}`);
  if (v.trigger.code === 'OUTPUT_QUARANTINED') lines.push(`  withheld   an output; read it with --output, release it with "portcullis approvals release ${v.id} --as NAME"`);
  return lines.join('\n') + '\n';
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
