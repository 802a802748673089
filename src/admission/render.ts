/** `portcullis scan` output: a human table, JSON, and SARIF 2.1.0 for CI code scanning. */
import { VERSION } from '../version.js';
import { CLIENT_NAMES } from './client-config.js';
import { RULES, SEVERITIES, type ScanFinding, type ScanReport, type Severity } from './scan.js';

export type ScanFormat = 'table' | 'json' | 'sarif';

export function renderScan(report: ScanReport, format: ScanFormat): string {
  if (format === 'json') return JSON.stringify(toJson(report), null, 2) + '\n';
  if (format === 'sarif') return JSON.stringify(toSarif(report), null, 2) + '\n';
  return toTable(report);
}

function counts(findings: ScanFinding[]): Record<Severity, number> {
  const c = { error: 0, warning: 0, note: 0 };
  for (const f of findings) c[f.severity]++;
  return c;
}

function toJson(report: ScanReport) {
  return { files: report.files, findings: report.findings, summary: counts(report.findings), notes: report.notes };
}

function toTable(report: ScanReport): string {
  const out: string[] = [];
  const rw = Math.max(...RULES.map((r) => r.id.length));
  for (const file of report.files) {
    out.push(`${file.file} (${CLIENT_NAMES[file.client]}, ${file.servers.length} server${file.servers.length === 1 ? '' : 's'})`);
    for (const f of report.findings.filter((x) => x.file === file.file && x.server === undefined)) out.push(`  ${f.severity.padEnd(7)}  ${f.rule.padEnd(rw)}  ${f.message}`);
    for (const s of file.servers) {
      const mine = report.findings.filter((x) => x.file === file.file && x.server === s.name);
      out.push(`  ${s.name}${s.line ? ` (line ${s.line})` : ''}${mine.length === 0 ? ': no findings' : ''}`);
      for (const f of mine) out.push(`    ${f.severity.padEnd(7)}  ${f.rule.padEnd(rw)}  ${f.line ? `line ${f.line}: ` : ''}${f.message}`);
    }
    out.push('');
  }
  const c = counts(report.findings);
  const servers = report.files.reduce((n, f) => n + f.servers.length, 0);
  out.push(`${report.files.length} config file${report.files.length === 1 ? '' : 's'}, ${servers} server${servers === 1 ? '' : 's'}: ${SEVERITIES.map((s) => `${c[s]} ${s}${c[s] === 1 ? '' : 's'}`).join(', ')}`);
  for (const n of report.notes) out.push(`note: ${n}`);
  return out.join('\n') + '\n';
}

const SECURITY_SEVERITY: Record<Severity, string> = { error: '8.0', warning: '5.0', note: '2.0' };

/** A SARIF 2.1.0 log with one run; file URIs are relative to the working directory. */
export function toSarif(report: ScanReport): Record<string, unknown> {
  const index = new Map(RULES.map((r, i) => [r.id, i]));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'portcullis',
            semanticVersion: VERSION,
            rules: RULES.map((r) => ({
              id: r.id,
              name: r.title.replace(/[^A-Za-z]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase()).replace(/^./, (c) => c.toUpperCase()),
              shortDescription: { text: r.title },
              fullDescription: { text: r.description },
              help: { text: r.description },
              defaultConfiguration: { level: r.severity },
              properties: { tags: ['security', 'mcp'], 'security-severity': SECURITY_SEVERITY[r.severity] },
            })),
          },
        },
        results: report.findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: index.get(f.rule),
          level: f.severity,
          message: { text: f.server !== undefined ? `${f.server}: ${f.message}` : f.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: encodeURI(f.file) },
                ...(f.line ? { region: { startLine: f.line } } : {}),
              },
              ...(f.pointer ? { logicalLocations: [{ fullyQualifiedName: f.pointer, kind: 'member' }] } : {}),
            },
          ],
          ...(f.intended ? { properties: { intended: f.intended, why: f.why } } : {}),
        })),
      },
    ],
  };
}
