/**
 * The approval form sent to the client with MCP elicitation (form mode).
 *
 * Form mode must never ask for secrets, and elicitation has no read-only
 * fields, so everything the human must read (tool, arguments, trigger, risk)
 * is in the message, with secret-named argument values redacted; the only
 * field is an optional free-text note for the audit log. Accept runs the call
 * once; decline, cancel, an error or no answer refuse it.
 */
import { redactSecretFields } from '../audit/index.js';
import type { ApprovalTrigger, RiskAssessment } from './types.js';

const MAX_ARGS_CHARS = 4000;
const MAX_NOTE = 500;

export interface ApprovalFormInput {
  identity: string;
  server: string;
  tool: string;
  exposedName: string;
  arguments: unknown;
  trigger: ApprovalTrigger;
  risk?: RiskAssessment;
  expiresAt: Date;
}

export function approvalForm(input: ApprovalFormInput): Record<string, unknown> {
  const args = redactSecretFields(input.arguments ?? {});
  let argsText = JSON.stringify(args, null, 2);
  if (argsText.length > MAX_ARGS_CHARS) argsText = `${argsText.slice(0, MAX_ARGS_CHARS)}\n… (truncated; ${argsText.length} characters in all)`;
  const lines = [
    `Approve this tool call by agent "${input.identity}"?`,
    '',
    `Tool: ${input.server}.${input.tool} (called as ${input.exposedName})`,
    `Arguments (secret-named values redacted):`,
    argsText,
    '',
    `Why it is held: ${describeTrigger(input.trigger)}`,
    `Risk: ${describeRisk(input.risk)}`,
    '',
    `Accept runs exactly this call once. Decline or cancel refuses it. No answer by ${input.expiresAt.toISOString()} refuses it.`,
  ];
  return {
    mode: 'form',
    message: lines.join('\n'),
    requestedSchema: {
      type: 'object',
      properties: {
        note: { type: 'string', title: 'Note for the audit log (optional)', description: 'Why you approve or refuse. Never enter passwords or other secrets here.', maxLength: MAX_NOTE },
      },
    },
    _meta: {
      'portcullis/approval': {
        server: input.server,
        tool: input.tool,
        arguments: args,
        trigger: input.trigger,
        ...(input.risk ? { risk: input.risk } : {}),
        expiresAt: input.expiresAt.toISOString(),
      },
    },
  };
}

export function describeTrigger(t: ApprovalTrigger): string {
  const parts = [t.reason];
  if (t.rule) parts.push(`rule "${t.rule}"`);
  if (t.tier) parts.push(`risk tier ${t.tier}`);
  parts.push(`[${t.code}${t.guard ? ` by guard ${t.guard}` : ''}]`);
  return parts.join('; ');
}

export function describeRisk(risk: RiskAssessment | undefined): string {
  if (!risk) return 'not rated (the identity rule alone requires approval)';
  const text = `permission: ${risk.permission}; blast radius: ${risk.blastRadius}; reversibility: ${risk.reversibility}; tier: ${risk.tier}`;
  return risk.rationale ? `${text} (${risk.rationale})` : text;
}

export type ElicitedDecision = { approved: true; note?: string } | { approved: false; outcome: 'decline' | 'cancel' | 'error'; why: string };

/** Maps the client's answer: only an explicit accept approves. */
export function readElicitation(answer: { result?: Record<string, unknown>; error?: { message: string } }): ElicitedDecision {
  if (answer.error) return { approved: false, outcome: 'error', why: `the elicitation failed: ${answer.error.message}` };
  const action = answer.result?.action;
  if (action === 'accept') {
    const note = (answer.result?.content as { note?: unknown } | undefined)?.note;
    return { approved: true, ...(typeof note === 'string' && note.trim() !== '' ? { note: note.slice(0, MAX_NOTE) } : {}) };
  }
  if (action === 'decline') return { approved: false, outcome: 'decline', why: 'the user declined it' };
  if (action === 'cancel') return { approved: false, outcome: 'cancel', why: 'the user cancelled the approval form' };
  return { approved: false, outcome: 'error', why: `the client answered with an unknown action ${JSON.stringify(action)}` };
}
