/**
 * The benchmark's upstream MCP server: one fast tool, `echo`, that takes about
 * 1 KB of arguments and answers 4 KB of text, served over stdio (default) or
 * over Streamable HTTP (`--http <port>`, one SDK transport + Server per session).
 *
 * It is deliberately built on the SDK's low-level Server so that every
 * configuration in the benchmark talks to the same, cheap upstream and the
 * differences measured are the hops in front of it.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, isInitializeRequest, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { RESULT_TEXT, TOOL_NAME } from './lib/payload.js';

const TOOL: Tool = {
  name: TOOL_NAME,
  description: 'Returns 4 KB of text; the benchmark measures everything around it.',
  inputSchema: {
    type: 'object',
    properties: {
      id: { type: 'integer', minimum: 0 },
      customer: { type: 'string', maxLength: 64 },
      tags: { type: 'array', items: { type: 'string', maxLength: 32 }, maxItems: 16 },
      note: { type: 'string', maxLength: 2048 },
    },
    required: ['id', 'note'],
    additionalProperties: false,
  },
};

function makeServer(): Server {
  const server = new Server({ name: 'bench-upstream', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [TOOL] }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    if (req.params.name !== TOOL_NAME) return { content: [{ type: 'text', text: `unknown tool ${req.params.name}` }], isError: true };
    return { content: [{ type: 'text', text: RESULT_TEXT }] };
  });
  return server;
}

async function serveStdio(): Promise<void> {
  const server = makeServer();
  const transport = new StdioServerTransport();
  transport.onclose = () => process.exit(0);
  process.stdin.once('end', () => process.exit(0));
  await server.connect(transport);
}

async function serveHttp(port: number): Promise<void> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const readJson = (req: IncomingMessage) =>
    new Promise<unknown>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.once('end', () => {
        try {
          resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined);
        } catch (e) {
          reject(e);
        }
      });
      req.once('error', reject);
    });
  const fail = (res: ServerResponse, status: number, message: string) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message } }));

  const http = createHttpServer(async (req, res) => {
    try {
      const body = req.method === 'POST' ? await readJson(req) : undefined;
      const sid = req.headers['mcp-session-id'];
      if (typeof sid === 'string') {
        const t = sessions.get(sid);
        if (!t) return fail(res, 404, 'Session not found');
        return await t.handleRequest(req, res, body);
      }
      if (req.method !== 'POST' || !isInitializeRequest(body)) return fail(res, 400, 'initialize first');
      const id = randomUUID();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => id });
      sessions.set(id, transport);
      transport.onclose = () => sessions.delete(id);
      await makeServer().connect(transport);
      await transport.handleRequest(req, res, body);
    } catch (error) {
      if (!res.headersSent) fail(res, 500, (error as Error).message);
      else res.end();
    }
  });
  http.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  const shutdown = () => process.exit(0);
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

const at = process.argv.indexOf('--http');
if (at >= 0) await serveHttp(Number(process.argv[at + 1]));
else await serveStdio();
