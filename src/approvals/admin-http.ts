/**
 * The HTTP admin API for out-of-band approvals, served under /admin/ on the
 * gateway's own HTTP endpoint (which has already checked Host and Origin):
 *
 *   GET  /admin/approvals              pending and approved-unused requests (?all=1: every request)
 *   GET  /admin/approvals/:id          one request with its status and decision (?output=1: with a quarantined output)
 *   POST /admin/approvals/:id/approve  {"reason": "..."} (optional)
 *   POST /admin/approvals/:id/deny     {"reason": "..."} (optional)
 *
 * Only approver tokens are accepted; an agent's token gets 403.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApproverAuthenticator } from './credentials.js';
import { ApprovalError, type ApprovalDesk } from './types.js';

const MAX_BODY = 16 * 1024;
const MAX_REASON = 1000;

export type AdminHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface AdminHandlerOptions {
  desk: ApprovalDesk;
  authenticator: ApproverAuthenticator;
}

export function createAdminHandler(options: AdminHandlerOptions): AdminHandler {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const auth = await options.authenticator.authenticate({ authorization: req.headers.authorization, remoteAddress: req.socket.remoteAddress }).catch((error: unknown) => ({
      ok: false as const,
      status: 401 as const,
      description: `authentication failed inside the gateway (${(error as Error).message})`,
      wwwAuthenticate: undefined,
    }));
    if (!auth.ok) {
      if (auth.wwwAuthenticate) res.setHeader('WWW-Authenticate', auth.wwwAuthenticate);
      return json(res, auth.status, { error: auth.status === 403 ? 'forbidden' : 'unauthorized', message: auth.description });
    }
    const parts = url.pathname.split('/').filter(Boolean); // ['admin', 'approvals', id?, action?]
    if (parts[0] !== 'admin' || parts[1] !== 'approvals' || parts.length > 4) return json(res, 404, { error: 'not_found', message: `no admin resource at ${url.pathname}; see GET /admin/approvals` });
    try {
      if (parts.length === 2) {
        if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
        const all = url.searchParams.get('all');
        return json(res, 200, { approvals: await options.desk.list({ all: all === '1' || all === 'true' }) });
      }
      const id = decodeURIComponent(parts[2]);
      if (parts.length === 3) {
        if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
        const view = await options.desk.get(id);
        if (!view) return json(res, 404, { error: 'not_found', message: `no approval request ${id}` });
        const withOutput = ['1', 'true'].includes(url.searchParams.get('output') ?? '');
        const output = withOutput ? await options.desk.output(id) : undefined;
        return json(res, 200, output ? { ...view, output } : view);
      }
      const action = parts[3];
      if (action !== 'approve' && action !== 'deny') return json(res, 404, { error: 'not_found', message: `unknown action "${action}"; use approve or deny` });
      if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
      const body = await readJson(req);
      if ('error' in body) return json(res, body.status, { error: 'bad_request', message: body.error });
      const reason = body.value.reason;
      if (reason !== undefined && (typeof reason !== 'string' || reason.length > MAX_REASON)) {
        return json(res, 400, { error: 'bad_request', message: `"reason" must be a string of at most ${MAX_REASON} characters` });
      }
      const by = { name: auth.approver, channel: 'http' as const, ...(reason ? { reason } : {}), evidence: { tokenId: auth.tokenId, remoteAddress: req.socket.remoteAddress ?? '' } };
      const view = action === 'approve' ? await options.desk.approve(id, by) : await options.desk.deny(id, by);
      return json(res, 200, view);
    } catch (error) {
      if (error instanceof ApprovalError) {
        const status = { not_found: 404, invalid_id: 404, expired: 410, already_decided: 409, not_an_approver: 403 }[error.kind];
        return json(res, status, { error: error.kind, message: error.message });
      }
      throw error;
    }
  };
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  json(res, 405, { error: 'method_not_allowed', message: `use ${allow}` });
}

async function readJson(req: IncomingMessage): Promise<{ value: Record<string, unknown> } | { error: string; status: number }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length; // read to the end either way, so the answer can still be sent
    if (size <= MAX_BODY) chunks.push(chunk);
  }
  if (size > MAX_BODY) return { error: `body exceeds ${MAX_BODY} bytes`, status: 413 };
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return { value: {} };
  try {
    const value = JSON.parse(text) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) return { error: 'body must be a JSON object such as {"reason": "..."}', status: 400 };
    return { value: value as Record<string, unknown> };
  } catch (error) {
    return { error: `body is not JSON: ${(error as Error).message}`, status: 400 };
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify(body));
}
