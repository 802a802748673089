/**
 * Announces a new queued approval request by POSTing JSON to a configured URL
 * (a chat-ops bot, a ticketing hook). Delivery is best effort with a timeout:
 * the outcome is audited by the caller and never blocks or decides the hold.
 */
import type { ApprovalRequestRecord } from './types.js';

export interface WebhookConfig {
  url: string;
  headers: Record<string, string>;
  timeout_seconds: number;
}

export interface WebhookPayload {
  id: string;
  identity: string;
  session: string;
  server: string;
  tool: string;
  /** Secret-named values redacted. */
  arguments: unknown;
  argumentsSha256: string;
  trigger: ApprovalRequestRecord['trigger'];
  risk: ApprovalRequestRecord['risk'] | null;
  createdAt: string;
  expiresAt: string;
  /** POST here with an approver token to approve; absent when the gateway has no HTTP endpoint. */
  approve_url?: string;
  deny_url?: string;
}

export function webhookPayload(request: ApprovalRequestRecord, publicUrl: string | undefined): WebhookPayload {
  const base = publicUrl ? new URL(`/admin/approvals/${request.id}/`, publicUrl) : undefined;
  return {
    id: request.id,
    identity: request.binding.identity,
    session: request.binding.session,
    server: request.binding.server,
    tool: request.binding.tool,
    arguments: request.arguments,
    argumentsSha256: request.binding.argumentsSha256,
    trigger: request.trigger,
    risk: request.risk ?? null,
    createdAt: request.createdAt,
    expiresAt: request.expiresAt,
    ...(base ? { approve_url: new URL('approve', base).href, deny_url: new URL('deny', base).href } : {}),
  };
}

export type WebhookOutcome = { ok: true; status: number; ms: number } | { ok: false; error: string; status?: number; ms: number };

export async function deliverWebhook(config: WebhookConfig, payload: WebhookPayload): Promise<WebhookOutcome> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(config.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'portcullis-approvals', ...config.headers },
      body: JSON.stringify(payload),
      redirect: 'error',
      signal: AbortSignal.timeout(config.timeout_seconds * 1000),
    });
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) return { ok: false, status: response.status, error: `the webhook answered HTTP ${response.status}`, ms: ms() };
    return { ok: true, status: response.status, ms: ms() };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${config.timeout_seconds} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { ok: false, error: `webhook delivery failed: ${why}`, ms: ms() };
  }
}
