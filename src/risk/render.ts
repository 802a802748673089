/**
 * The risk inventory as a terminal table, JSON, Markdown or a self-contained
 * HTML page. Output is deterministic (sorted, no timestamps, paths or versions)
 * so it can be diffed, committed and snapshot-tested.
 */
import type { Inventory, InventoryAccess, InventoryTool } from './inventory.js';
import { SOURCE_LETTER, TIERS, type Answer, type Source, type Tier } from './types.js';

export type RiskFormat = 'table' | 'json' | 'md' | 'html';

export function renderInventory(inv: Inventory, format: RiskFormat): string {
  switch (format) {
    case 'table':
      return renderTable(inv);
    case 'json':
      return JSON.stringify(toJson(inv), null, 2) + '\n';
    case 'md':
      return renderMarkdown(inv);
    case 'html':
      return renderHtml(inv);
  }
}

const SOURCES: [string, Source, string][] = [
  ['C', 'config', 'the operator\'s config'],
  ['A', 'annotation', 'annotations of a server marked trust_annotations'],
  ['a', 'annotation (untrusted)', 'annotations of an unvouched server (can only make a tool look worse)'],
  ['H', 'heuristic', 'the tool\'s name or description'],
  ['D', 'default', 'MCP worst-case default for an absent hint, or blast radius "app" when not configured'],
];

const withSource = (a: Answer<string>) => `${a.value} (${SOURCE_LETTER[a.source]})`;
const labelsText = (t: InventoryTool) => (t.labels.value.length > 0 ? t.labels.value.join(', ') : '-') + (t.labels.source === 'config' ? ' (C)' : '');
const tierText = (t: InventoryTool) => (t.tier.source === 'config' ? `${t.tier.value} (C)` : t.tier.value);

export function describeAccess(a: InventoryAccess): string {
  return a.triggers.length > 0 ? `${a.gate} (${a.triggers.join(', ')})` : a.gate;
}

const accessText = (t: InventoryTool, sep: string) => (t.access.length > 0 ? t.access.map((a) => `${a.identity}: ${describeAccess(a)}`).join(sep) : 'nobody');

function summaryLine(inv: Inventory): string {
  const reachable = inv.servers.filter((s) => s.status === 'ok').length;
  const tiers = [...TIERS].reverse().map((t) => `${inv.counts[t]} ${t}`).join(', ');
  return `${inv.servers.length} server${inv.servers.length === 1 ? '' : 's'} (${reachable} reachable), ${inv.tools.length} tools: ${tiers}; ${inv.identities.length} identit${inv.identities.length === 1 ? 'y' : 'ies'}; mode ${inv.mode}`;
}

function gatesLine(inv: Inventory): string {
  return TIERS.map((t) => `${t}=${inv.gates[t]}`).join(' ');
}

// ---- terminal table -----------------------------------------------------------

export function renderTable(inv: Inventory): string {
  const head = ['SERVER', 'TOOL', 'PERMISSION', 'BLAST RADIUS', 'REVERSIBILITY', 'TIER', 'LABELS', 'WHO MAY CALL IT (GATE)'];
  const rows = inv.tools.map((t) => [t.server, t.tool, withSource(t.permission), withSource(t.blastRadius), withSource(t.reversibility), tierText(t), labelsText(t), accessText(t, '; ')]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [`Portcullis risk inventory: ${summaryLine(inv)}`, '', line(head), ...rows.map(line), ''];
  for (const s of inv.servers.filter((x) => x.status !== 'ok')) out.push(`UNREACHABLE: server ${s.name}: ${s.error}`);
  if (inv.servers.some((s) => s.status !== 'ok')) out.push('');
  out.push(`Sources: ${SOURCES.map(([l, , what]) => `${l} ${what}`).join('; ')}.`);
  out.push(`Gates (risk.gates): ${gatesLine(inv)}.`);
  out.push('Gate per identity: allowed, approval (rule = requires_human_approval_on, tier = the tier\'s gate), denied (tier).');
  return out.join('\n') + '\n';
}

// ---- JSON ----------------------------------------------------------------------

const answer = (a: Answer<unknown>) => ({ value: a.value, source: a.source, why: a.why });

export function toJson(inv: Inventory): Record<string, unknown> {
  return {
    format: 'portcullis-risk/1',
    mode: inv.mode,
    gates: inv.gates,
    summary: { servers: inv.servers.length, tools: inv.tools.length, tiers: inv.counts, identities: inv.identities },
    servers: inv.servers.map((s) => ({ name: s.name, status: s.status, ...(s.error ? { error: s.error } : {}), tools: s.tools, trust_annotations: s.trustAnnotations })),
    tools: inv.tools.map((t) => ({
      server: t.server,
      tool: t.tool,
      exposed_name: t.exposed,
      permission: answer(t.permission),
      blast_radius: answer(t.blastRadius),
      reversibility: answer(t.reversibility),
      tier: answer(t.tier),
      labels: answer(t.labels),
      access: t.access.map((a) => ({ identity: a.identity, gate: a.gate, triggers: a.triggers, ...(a.rule ? { rule: a.rule } : {}), explicit: a.explicit })),
    })),
  };
}

// ---- Markdown ------------------------------------------------------------------

const md = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderMarkdown(inv: Inventory): string {
  const out: string[] = ['# Portcullis risk inventory', '', `${summaryLine(inv)}.`, ''];
  out.push('| Tier | Server | Tool | Permission | Blast radius | Reversibility | Labels | Who may call it (gate) |');
  out.push('|---|---|---|---|---|---|---|---|');
  for (const t of inv.tools) {
    const tier = t.tier.value === 'critical' || t.tier.value === 'high' ? `**${tierText(t)}**` : tierText(t);
    out.push(`| ${tier} | ${md(t.server)} | \`${md(t.tool)}\` | ${withSource(t.permission)} | ${withSource(t.blastRadius)} | ${withSource(t.reversibility)} | ${md(labelsText(t))} | ${md(accessText(t, '<br>'))} |`);
  }
  const down = inv.servers.filter((s) => s.status !== 'ok');
  if (down.length > 0) {
    out.push('', '## Unreachable servers', '');
    for (const s of down) out.push(`- **${md(s.name)}**: ${md(s.error ?? '')}`);
  }
  out.push('', '## Why each answer', '');
  for (const t of inv.tools) {
    out.push(`- **${md(t.server)}.${md(t.tool)}** (${t.tier.value}): permission ${t.permission.value} — ${md(t.permission.why)} (${t.permission.source}); blast radius ${t.blastRadius.value} — ${md(t.blastRadius.why)} (${t.blastRadius.source}); reversibility ${t.reversibility.value} — ${md(t.reversibility.why)} (${t.reversibility.source}); labels — ${md(t.labels.why)}`);
  }
  out.push('', '## Gates', '', '| Tier | Gate (risk.gates) |', '|---|---|');
  for (const tier of TIERS) out.push(`| ${tier} | ${inv.gates[tier]} |`);
  out.push('', '## Sources', '');
  for (const [l, s, what] of SOURCES) out.push(`- **${l}** ${s}: ${what}`);
  return out.join('\n') + '\n';
}

// ---- HTML ------------------------------------------------------------------------

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const TIER_COLOUR: Record<Tier, string> = { low: '#2e7d32', medium: '#b28704', high: '#d84315', critical: '#b71c1c' };

function cell(a: Answer<string>): string {
  return `<td title="${esc(`${a.source}: ${a.why}`)}">${esc(a.value)} <span class="src">${SOURCE_LETTER[a.source]}</span></td>`;
}

export function renderHtml(inv: Inventory): string {
  const rows = inv.tools.map((t) => {
    const access = t.access.length > 0 ? t.access.map((a) => `<div class="gate-${a.gate}">${esc(a.identity)}: ${esc(describeAccess(a))}</div>`).join('') : '<div class="nobody">nobody</div>';
    return [
      '<tr>',
      `<td><span class="tier" style="background:${TIER_COLOUR[t.tier.value]}">${esc(tierText(t))}</span></td>`,
      `<td>${esc(t.server)}</td>`,
      `<td><code>${esc(t.tool)}</code></td>`,
      cell(t.permission),
      cell(t.blastRadius),
      cell(t.reversibility),
      `<td title="${esc(t.labels.why)}">${esc(labelsText(t))}</td>`,
      `<td>${access}</td>`,
      '</tr>',
    ].join('');
  });
  const down = inv.servers.filter((s) => s.status !== 'ok');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<title>Portcullis risk inventory</title>',
    '<style>',
    'body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1a1a1a}',
    'table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}',
    'th{background:#f4f4f4}.tier{color:#fff;border-radius:3px;padding:.1rem .4rem;font-weight:600}.src{color:#777;font-size:.8em}',
    '.gate-approval{color:#b28704}.gate-denied{color:#b71c1c}.nobody{color:#777}dl{margin-top:2rem}dt{font-weight:600;margin-top:.5rem}',
    '</style>',
    '</head>',
    '<body>',
    '<h1>Portcullis risk inventory</h1>',
    `<p>${esc(summaryLine(inv))}.</p>`,
    ...(down.length > 0 ? ['<h2>Unreachable servers</h2>', '<ul>', ...down.map((s) => `<li><b>${esc(s.name)}</b>: ${esc(s.error ?? '')}</li>`), '</ul>'] : []),
    '<table>',
    '<thead><tr><th>Tier</th><th>Server</th><th>Tool</th><th>Permission</th><th>Blast radius</th><th>Reversibility</th><th>Labels</th><th>Who may call it (gate)</th></tr></thead>',
    '<tbody>',
    ...rows,
    '</tbody>',
    '</table>',
    '<h2>Why each answer</h2>',
    '<dl>',
    ...inv.tools.map(
      (t) =>
        `<dt>${esc(t.server)}.${esc(t.tool)} (${esc(t.tier.value)})</dt><dd>permission ${esc(t.permission.value)}: ${esc(t.permission.why)} (${esc(t.permission.source)}); blast radius ${esc(t.blastRadius.value)}: ${esc(t.blastRadius.why)} (${esc(t.blastRadius.source)}); reversibility ${esc(t.reversibility.value)}: ${esc(t.reversibility.why)} (${esc(t.reversibility.source)}); labels: ${esc(t.labels.why)}</dd>`,
    ),
    '</dl>',
    `<p>Gates (risk.gates): ${esc(gatesLine(inv))}.</p>`,
    `<p>Sources: ${SOURCES.map(([l, , what]) => `<b>${l}</b> ${esc(what)}`).join('; ')}.</p>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
