/**
 * Protocol fidelity against the real MCP reference parts from npm:
 * @modelcontextprotocol/server-everything, server-filesystem, server-memory
 * and the inspector CLI. Where it makes sense every answer through the
 * gateway is compared with the same server reached directly by an SDK client.
 * Gateway-launched stdio servers run in the default sandbox (bubblewrap) with
 * the paths they need declared; direct servers run unsandboxed.
 * Where the gateway differs from direct by design (roots are not relayed to
 * shared servers, invalid arguments are refused before the server), the test
 * says so in its name.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { EmptyResultSchema, ResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { issueToken, loadOrCreateSigningKey } from '../src/auth/index.js';
import {
  Cleanup,
  EVERYTHING,
  FILESYSTEM,
  MEMORY,
  NODE,
  PAGED_SERVER_ARGS,
  PAGED_SERVER_CWD,
  attach,
  direct,
  directHttp,
  escapeRegExp,
  inspector,
  probe,
  rpcError,
  sleep,
  startEverythingHttp,
  startGateway,
  subDir,
  tempDir,
  textOf,
  waitFor,
  type GatewayHarness,
  type Probe,
} from './helpers/real.js';

const ALL = { allowed_tools: ['*'], allowed_resources: ['**'], allowed_prompts: ['*'] };
const everything = (prefix: boolean) => ({ command: NODE, args: [EVERYTHING, 'stdio'], prefix });
type Json = Record<string, unknown>;

/** server-everything stamps text resources with the wall-clock time; strip it to compare. */
function untimed(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value).replace(/created at [^"]*/g, 'created at <time>'));
}

function resultOf(p: Probe, method: string): Json {
  const answer = p.tap!.last(method);
  assert.ok(answer.result, `${method} failed: ${JSON.stringify(answer.error)}`);
  return answer.result;
}

async function callBoth(d: Probe, v: Probe, name: string, args: Json): Promise<{ direct: Json; via: Json }> {
  await d.client.callTool({ name, arguments: args });
  const directResult = resultOf(d, 'tools/call');
  await v.client.callTool({ name, arguments: args });
  return { direct: directResult, via: resultOf(v, 'tools/call') };
}

// The suites are independent (own gateway, servers and temp dirs), so they run side by side;
// the tests inside each suite share state and run in order.
const SEQUENTIAL = { concurrency: 1 };
describe('real MCP servers and clients through the gateway', { concurrency: true }, () => {
  // ---------------------------------------------------------------------------

  describe('server-everything (prefix: false) through the gateway vs direct', SEQUENTIAL, () => {
    const cleanup = new Cleanup();
    let h: GatewayHarness;
    let d: Probe;
    let v: Probe;

    before(async () => {
      d = await direct(cleanup, NODE, [EVERYTHING, 'stdio']);
      h = await startGateway(cleanup, { servers: { every: everything(false) }, identities: { all: ALL } });
      v = await h.connect('all');
    });
    after(() => cleanup.run());

    test('initialize reports the server’s protocol version, serverInfo, instructions and capabilities (minus tasks)', () => {
      const di = resultOf(d, 'initialize');
      const vi = resultOf(v, 'initialize');
      assert.equal(vi.protocolVersion, di.protocolVersion);
      assert.deepEqual(vi.serverInfo, di.serverInfo);
      assert.equal((di.serverInfo as Json).name, 'mcp-servers/everything');
      assert.ok(typeof di.instructions === 'string' && di.instructions.length > 100);
      assert.equal(vi.instructions, di.instructions);
      // Fidelity difference: the gateway does not relay the experimental tasks API, so it drops that capability.
      const { tasks, ...rest } = di.capabilities as Json;
      assert.ok(tasks, 'server-everything declares tasks');
      assert.deepEqual(vi.capabilities, rest);
    });

    test('tools/list is byte-identical to the server’s (names, schemas, annotations, execution, outputSchema), but for roots', async () => {
      await d.client.listTools();
      await v.client.listTools();
      const dl = resultOf(d, 'tools/list');
      const vl = resultOf(v, 'tools/list');
      // The gateway declares no roots upstream (the connection is shared), so the server does not offer get-roots-list.
      const withoutRoots = { ...dl, tools: (dl.tools as { name: string }[]).filter((t) => t.name !== 'get-roots-list') };
      assert.equal(JSON.stringify(vl), JSON.stringify(withoutRoots));
      const names = (vl.tools as { name: string }[]).map((t) => t.name);
      for (const n of ['echo', 'get-structured-content', 'trigger-sampling-request', 'trigger-elicitation-request', 'trigger-long-running-operation']) {
        assert.ok(names.includes(n), `${n} listed`);
      }
      assert.ok((vl.tools as Json[]).find((t) => t.name === 'get-structured-content')!.outputSchema, 'outputSchema kept');
      assert.equal(vl.nextCursor, undefined);
    });

    test('tools/call results are identical: echo, get-sum, get-annotated-message, get-resource-links, get-tiny-image', async () => {
      const calls: [string, Json][] = [
        ['echo', { message: 'hello through the gate' }],
        ['get-sum', { a: 19, b: 23 }],
        ['get-annotated-message', { messageType: 'error', includeImage: true }],
        ['get-resource-links', { count: 4 }],
        ['get-tiny-image', {}],
      ];
      for (const [name, args] of calls) {
        const { direct: dr, via: vr } = await callBoth(d, v, name, args);
        assert.equal(JSON.stringify(vr), JSON.stringify(dr), `${name} differs`);
      }
      const { via } = await callBoth(d, v, 'get-sum', { a: 19, b: 23 });
      assert.equal(textOf(via), 'The sum of 19 and 23 is 42.');
    });

    test('get-structured-content keeps structuredContent, which the SDK client validates against outputSchema', async () => {
      const viaParsed = await v.client.callTool({ name: 'get-structured-content', arguments: { location: 'New York' } });
      assert.deepEqual(viaParsed.structuredContent, { temperature: 33, conditions: 'Cloudy', humidity: 82 });
      const { direct: dr, via: vr } = await callBoth(d, v, 'get-structured-content', { location: 'Chicago' });
      assert.deepEqual(vr, dr);
      assert.deepEqual(vr.structuredContent, { temperature: 36, conditions: 'Light rain / drizzle', humidity: 82 });
    });

    test('resources/list, resources/templates/list and resources/read (static and templated) match the server', async () => {
      await d.client.listResources();
      await v.client.listResources();
      const dl = resultOf(d, 'resources/list');
      assert.equal(JSON.stringify(resultOf(v, 'resources/list')), JSON.stringify(dl));
      assert.ok((dl.resources as unknown[]).length >= 5);
      assert.equal(dl.nextCursor, undefined, 'server-everything does not paginate (see the pagination suite)');

      await d.client.listResourceTemplates();
      await v.client.listResourceTemplates();
      assert.equal(JSON.stringify(resultOf(v, 'resources/templates/list')), JSON.stringify(resultOf(d, 'resources/templates/list')));

      for (const uri of ['demo://resource/static/document/features.md', 'demo://resource/dynamic/text/7']) {
        await d.client.readResource({ uri });
        await v.client.readResource({ uri });
        assert.deepEqual(untimed(resultOf(v, 'resources/read')), untimed(resultOf(d, 'resources/read')), uri);
      }
      const blob = await v.client.readResource({ uri: 'demo://resource/dynamic/blob/2' });
      const content = blob.contents[0] as { uri: string; blob?: string };
      assert.equal(content.uri, 'demo://resource/dynamic/blob/2');
      assert.match(Buffer.from(content.blob!, 'base64').toString('utf8'), /^Resource 2: This is a base64 blob/);

      const de = await rpcError(d.client.readResource({ uri: 'demo://resource/dynamic/text/not-a-number' }));
      const ve = await rpcError(v.client.readResource({ uri: 'demo://resource/dynamic/text/not-a-number' }));
      assert.deepEqual(ve, de);
    });

    test('prompts/list, prompts/get with arguments, and completion/complete match the server', async () => {
      await d.client.listPrompts();
      await v.client.listPrompts();
      assert.equal(JSON.stringify(resultOf(v, 'prompts/list')), JSON.stringify(resultOf(d, 'prompts/list')));

      const viaPrompt = await v.client.getPrompt({ name: 'args-prompt', arguments: { city: 'Paris', state: 'TX' } });
      await d.client.getPrompt({ name: 'args-prompt', arguments: { city: 'Paris', state: 'TX' } });
      assert.deepEqual(resultOf(v, 'prompts/get'), resultOf(d, 'prompts/get'));
      assert.equal(textOf({ content: viaPrompt.messages.map((m) => m.content) }), "What's weather in Paris, TX?");

      const completions: Json[] = [
        { ref: { type: 'ref/prompt', name: 'completable-prompt' }, argument: { name: 'department', value: 'Ma' } },
        { ref: { type: 'ref/prompt', name: 'completable-prompt' }, argument: { name: 'name', value: '' }, context: { arguments: { department: 'Sales' } } },
        { ref: { type: 'ref/resource', uri: 'demo://resource/dynamic/text/{resourceId}' }, argument: { name: 'resourceId', value: '12' } },
      ];
      const values: string[][] = [];
      for (const params of completions) {
        await d.client.complete(params as never);
        const r = await v.client.complete(params as never);
        assert.deepEqual(resultOf(v, 'completion/complete'), resultOf(d, 'completion/complete'));
        values.push(r.completion.values);
      }
      assert.deepEqual(values, [['Marketing'], ['David', 'Eve', 'Frank'], ['12']]);
    });

    test('logging/setLevel and ping answer like the server', async () => {
      assert.deepEqual(await v.client.setLoggingLevel('debug'), {});
      await d.client.setLoggingLevel('debug');
      assert.deepEqual(resultOf(v, 'logging/setLevel'), resultOf(d, 'logging/setLevel'));
      assert.deepEqual(await v.client.ping(), {});
    });

    test('an invalid logging level is refused as the server refuses it', async () => {
      const de = await rpcError(d.client.request({ method: 'logging/setLevel', params: { level: 'verbose' as never } }, EmptyResultSchema));
      const ve = await rpcError(v.client.request({ method: 'logging/setLevel', params: { level: 'verbose' as never } }, EmptyResultSchema));
      assert.equal(ve.code, de.code);
    });

    test('sampling/createMessage from trigger-sampling-request reaches the calling client with the server’s params and the answer flows back', async () => {
      const { direct: dr, via: vr } = await callBoth(d, v, 'trigger-sampling-request', { prompt: 'Summarise the gate', maxTokens: 77 });
      assert.equal(v.sampling.length, 1);
      assert.deepEqual(v.sampling[0], d.sampling[0]);
      assert.equal(v.sampling[0].maxTokens, 77);
      assert.deepEqual(vr, dr);
      assert.match(textOf(vr), /sampled answer/);
    });

    test('elicitation/create from trigger-elicitation-request reaches the client with the server’s schema and the accepted content flows back', async () => {
      const { direct: dr, via: vr } = await callBoth(d, v, 'trigger-elicitation-request', {});
      assert.equal(v.elicitation.length, 1);
      assert.deepEqual(v.elicitation[0], d.elicitation[0]);
      assert.ok((v.elicitation[0] as { requestedSchema?: { properties?: Json } }).requestedSchema?.properties?.name);
      assert.deepEqual(vr, dr);
      assert.match(textOf(vr), /Name: Ada Lovelace/);
    });

    test('client roots are never relayed to the shared server: the client is not asked and get-roots-list is not offered', async () => {
      const direct = await d.client.callTool({ name: 'get-roots-list', arguments: {} });
      assert.match(textOf(direct), /URI: file:\/\/\/srv\/project/, 'precondition: directly, the server reads the client roots');
      const via = await v.client.callTool({ name: 'get-roots-list', arguments: {} });
      assert.equal(via.isError, true);
      assert.match(textOf(via), /^UNKNOWN_TOOL: /);
      assert.equal(v.rootsAsked, 0, 'the gateway asked this client for its roots');
    });

    test('progress from trigger-long-running-operation reaches onprogress under the client’s own progressToken', async () => {
      const seen: Json[] = [];
      const before = v.tap!.notifications('notifications/progress').length;
      const r = await v.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.45, steps: 3 } }, undefined, { onprogress: (p) => void seen.push(p) });
      assert.match(textOf(r), /Long running operation completed/);
      assert.deepEqual(seen, [
        { progress: 1, total: 3 },
        { progress: 2, total: 3 },
        { progress: 3, total: 3 },
      ]);
      const request = v.tap!.sent.filter((m) => 'method' in m && m.method === 'tools/call').pop() as { params: { _meta: { progressToken: unknown } } };
      const tokens = v.tap!.notifications('notifications/progress').slice(before).map((n) => n.progressToken);
      assert.deepEqual(tokens, [request.params._meta.progressToken, request.params._meta.progressToken, request.params._meta.progressToken]);
    });

    test('two sessions using the same progressToken each receive only their own progress', async () => {
      const b = await h.connect('all');
      const c = await h.connect('all');
      const seenB: number[] = [];
      const seenC: number[] = [];
      const [rb, rc] = await Promise.all([
        b.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.4, steps: 2 } }, undefined, { onprogress: (p) => void seenB.push(p.total!) }),
        c.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.4, steps: 4 } }, undefined, { onprogress: (p) => void seenC.push(p.total!) }),
      ]);
      const tokenOf = (p: Probe) => (p.tap!.sent.find((m) => 'method' in m && m.method === 'tools/call') as { params: { _meta: { progressToken: unknown } } }).params._meta.progressToken;
      assert.equal(tokenOf(b), tokenOf(c), 'precondition: both clients chose the same token');
      assert.deepEqual(seenB, [2, 2]);
      assert.deepEqual(seenC, [4, 4, 4, 4]);
      assert.match(textOf(rb), /Steps: 2/);
      assert.match(textOf(rc), /Steps: 4/);
      assert.deepEqual([...b.errors, ...c.errors], []);
    });

    let cancelledId: string | number | undefined;
    test('a client aborting a long call gets an abort, receives no more of its progress, and the gateway keeps serving', async () => {
      const ac = new AbortController();
      let progressed = 0;
      const call = v.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1.5, steps: 5 } }, undefined, {
        signal: ac.signal,
        onprogress: () => {
          if (++progressed === 1) ac.abort('the user gave up');
        },
      });
      await assert.rejects(call, /the user gave up/);
      const request = v.tap!.sent.filter((m) => 'method' in m && m.method === 'tools/call').pop() as { id: string | number; params: { _meta: { progressToken: unknown } } };
      cancelledId = request.id;
      const cancel = v.tap!.sent.find((m) => 'method' in m && m.method === 'notifications/cancelled') as { params: { requestId: unknown } } | undefined;
      assert.equal(cancel?.params.requestId, request.id, 'the SDK client sent notifications/cancelled');
      const progressOf = () => v.tap!.notifications('notifications/progress').filter((n) => n.progressToken === request.params._meta.progressToken).length;
      const atAbort = progressOf();
      await sleep(800); // the server would have sent two or three more steps by now
      assert.equal(progressOf(), atAbort, 'no progress for the cancelled call reaches the client');
      const echo = await v.client.callTool({ name: 'echo', arguments: { message: 'still here' } });
      assert.equal(textOf(echo), 'Echo: still here');
    });

    test('the gateway sends no response for a request the client cancelled', () => {
      assert.ok(cancelledId !== undefined, 'depends on the abort test above');
      const late = v.tap!.received.filter((m) => !('method' in m) && 'id' in m && m.id === cancelledId);
      assert.deepEqual(late, []);
    });

    test('an unknown tool is answered like the server answers it: an isError result, not a JSON-RPC error', async () => {
      const dUnknown = await d.client.callTool({ name: 'no-such-tool', arguments: {} });
      const vUnknown = await v.client.callTool({ name: 'no-such-tool', arguments: {} });
      assert.equal(dUnknown.isError, true);
      assert.equal(vUnknown.isError, true);
      assert.match(textOf(vUnknown), /^UNKNOWN_TOOL: /);
    });

    test('schema-invalid arguments: the server answers an isError result, the gateway refuses with JSON-RPC -32602 INVALID_ARGUMENTS', async () => {
      const dInvalid = await d.client.callTool({ name: 'get-sum', arguments: { a: 'one' } });
      assert.equal(dInvalid.isError, true);
      assert.match(textOf(dInvalid), /Input validation error/);
      const vInvalid = await rpcError(v.client.callTool({ name: 'get-sum', arguments: { a: 'one' } }));
      assert.equal(vInvalid.code, -32602);
      assert.equal(vInvalid.data?.code, 'INVALID_ARGUMENTS');
    });

    test('a task-augmented tools/call is not turned into a task handle the gateway cannot serve (it declares no tasks capability)', async () => {
      const task = { ttl: 60_000 };
      await d.client.request({ method: 'tools/call', params: { name: 'simulate-research-query', arguments: { topic: 'gates' }, task } }, ResultSchema);
      assert.ok((resultOf(d, 'tools/call').task as Json | undefined)?.taskId, 'precondition: directly, the server creates a task');
      await d.client.request({ method: 'tasks/list', params: {} }, ResultSchema); // directly the task can be polled
      await v.client.request({ method: 'tools/call', params: { name: 'simulate-research-query', arguments: { topic: 'gates' }, task } }, ResultSchema).catch(() => {});
      const answer = v.tap!.last('tools/call');
      assert.equal((answer.result as Json | undefined)?.task, undefined, `the gateway returned a task handle: ${JSON.stringify(answer)}`);
    });
  });

  // ---------------------------------------------------------------------------

  describe('one shared server-everything upstream, several gateway sessions', SEQUENTIAL, () => {
    const cleanup = new Cleanup();
    let h: GatewayHarness;
    let alice: Probe;
    let bob: Probe;
    const toggleUpdates = async (p: Probe) => textOf(await p.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} }));

    before(async () => {
      h = await startGateway(cleanup, { servers: { every: everything(false) }, identities: { all: ALL } });
      alice = await h.connect('all', { name: 'alice', roots: [{ uri: 'file:///home/alice', name: 'alice-home' }], samplingText: 'from alice' });
      bob = await h.connect('all', { name: 'bob', roots: [{ uri: 'file:///home/bob', name: 'bob-home' }], samplingText: 'from bob' });
    });
    after(() => cleanup.run());

    test('a server→client request while two sessions have calls in flight is refused as UNATTRIBUTABLE_REQUEST and reaches neither client', async () => {
      const long = alice.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.8, steps: 2 } });
      await sleep(150);
      const sampled = await bob.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'who am I?' } });
      await long;
      assert.equal(sampled.isError, true);
      assert.match(textOf(sampled), /UNATTRIBUTABLE_REQUEST/);
      assert.equal(alice.sampling.length, 0);
      assert.equal(bob.sampling.length, 0);
    });

    test('resources/updated reaches only the session that subscribed to the URI', async () => {
      const uri = 'demo://resource/static/document/architecture.md';
      await alice.client.subscribeResource({ uri });
      assert.match(await toggleUpdates(bob), /^Started/);
      try {
        assert.ok(await waitFor(() => alice.updated.includes(uri), 2000), 'alice got the update');
        await sleep(100);
        assert.deepEqual(bob.updated, []);
      } finally {
        assert.match(await toggleUpdates(bob), /^Stopped/);
        await alice.client.unsubscribeResource({ uri });
      }
    });

    test('one session unsubscribing does not end another session’s subscription to the same URI', async () => {
      const uri = 'demo://resource/static/document/features.md';
      await alice.client.subscribeResource({ uri });
      await bob.client.subscribeResource({ uri });
      await alice.client.unsubscribeResource({ uri });
      await toggleUpdates(bob);
      try {
        assert.ok(await waitFor(() => bob.updated.includes(uri), 1500), 'bob, still subscribed, got the update');
      } finally {
        await toggleUpdates(bob);
      }
    });

    test('no session’s roots can reach another: neither client is ever asked for its roots', async () => {
      await alice.client.sendRootsListChanged();
      await alice.client.callTool({ name: 'echo', arguments: { message: 'a' } });
      await bob.client.callTool({ name: 'echo', arguments: { message: 'b' } });
      await sleep(200);
      assert.equal(alice.rootsAsked, 0);
      assert.equal(bob.rootsAsked, 0);
    });

    test('a client without sampling/elicitation is still shown the tools that need them (a direct client is not), and calling one fails with CLIENT_CAPABILITY_MISSING', async () => {
      const bare = await h.connect('all', { capabilities: {} });
      const bareDirect = await direct(cleanup, NODE, [EVERYTHING, 'stdio'], { capabilities: {} });
      const viaNames = (await bare.client.listTools()).tools.map((t) => t.name);
      const directNames = (await bareDirect.client.listTools()).tools.map((t) => t.name);
      const extra = viaNames.filter((n) => !directNames.includes(n)).sort();
      assert.deepEqual(extra, ['trigger-elicitation-request', 'trigger-sampling-request', 'trigger-url-elicitation']);
      assert.deepEqual(directNames.filter((n) => !viaNames.includes(n)), []);
      const r = await bare.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'x' } });
      assert.equal(r.isError, true);
      assert.match(textOf(r), /CLIENT_CAPABILITY_MISSING/);
    });
  });

  // ---------------------------------------------------------------------------

  describe('server-everything (prefix: true) next to server-memory', SEQUENTIAL, () => {
    const cleanup = new Cleanup();
    let d: Probe;
    let v: Probe;

    before(async () => {
      const dir = await tempDir(cleanup, 'portcullis-real-memory-', 0o777);
      d = await direct(cleanup, NODE, [EVERYTHING, 'stdio']);
      const h = await startGateway(cleanup, {
        servers: {
          every: everything(true),
          mem: { command: NODE, args: [MEMORY], env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') }, sandbox: { filesystem: { read_write: [dir] } } },
        },
        identities: { all: ALL },
      });
      v = await h.connect('all');
    });
    after(() => cleanup.run());

    test('tools/list namespaces every tool as <server>__<name> and keeps each definition otherwise identical', async () => {
      const viaTools = (await v.client.listTools()).tools;
      await d.client.listTools();
      // No roots upstream through the gateway, so no get-roots-list (see the roots test).
      const directTools = (resultOf(d, 'tools/list').tools as Json[]).filter((t) => t.name !== 'get-roots-list');
      const names = viaTools.map((t) => t.name);
      assert.ok(names.every((n) => n.startsWith('every__') || n.startsWith('mem__')), names.join(','));
      assert.ok(names.includes('every__echo') && names.includes('mem__read_graph') && names.includes('mem__create_entities'));
      const viaRaw = resultOf(v, 'tools/list').tools as Json[];
      const fromEvery = viaRaw.filter((t) => String(t.name).startsWith('every__')).map((t) => ({ ...t, name: String(t.name).slice('every__'.length) }));
      assert.deepEqual(fromEvery, directTools);
    });

    test('initialize presents the gateway itself, with server-everything’s instructions under its heading and the union of capabilities', () => {
      const vi = resultOf(v, 'initialize');
      const di = resultOf(d, 'initialize');
      assert.equal((vi.serverInfo as Json).name, 'portcullis');
      assert.ok(String(vi.instructions).includes(`## every\n${di.instructions}`));
      const caps = vi.capabilities as Json;
      for (const c of ['tools', 'resources', 'prompts', 'logging', 'completions']) assert.ok(caps[c], c);
    });

    test('namespaced calls route to the right server; bare or wrongly prefixed names are UNKNOWN_TOOL', async () => {
      assert.equal(textOf(await v.client.callTool({ name: 'every__echo', arguments: { message: 'routed' } })), 'Echo: routed');
      await v.client.callTool({ name: 'mem__create_entities', arguments: { entities: [{ name: 'Portcullis', entityType: 'gateway', observations: ['guards MCP'] }] } });
      const graph = await v.client.callTool({ name: 'mem__read_graph', arguments: {} });
      assert.match(textOf(graph), /Portcullis/);
      assert.deepEqual((graph.structuredContent as { entities: { name: string }[] }).entities.map((e) => e.name), ['Portcullis']);
      for (const name of ['echo', 'mem__echo', 'every__read_graph']) {
        const r = await v.client.callTool({ name, arguments: { message: 'x' } });
        assert.equal(r.isError, true, name);
        assert.match(textOf(r), /^UNKNOWN_TOOL: /, name);
      }
    });

    test('namespaced prompts work for prompts/get and completion/complete', async () => {
      const prompts = (await v.client.listPrompts()).prompts.map((p) => p.name);
      assert.ok(prompts.includes('every__args-prompt'), prompts.join(','));
      await v.client.getPrompt({ name: 'every__args-prompt', arguments: { city: 'Oslo' } });
      await d.client.getPrompt({ name: 'args-prompt', arguments: { city: 'Oslo' } });
      assert.deepEqual(resultOf(v, 'prompts/get'), resultOf(d, 'prompts/get'));
      const c = await v.client.complete({ ref: { type: 'ref/prompt', name: 'every__completable-prompt' }, argument: { name: 'department', value: 'S' } });
      assert.deepEqual(c.completion.values, ['Sales', 'Support']);
    });

    test('resources keep the server’s own URIs; with two resource servers a static URI is readable only after a resources/list revealed its owner', async () => {
      const uri = 'demo://resource/static/document/structure.md';
      // Fidelity difference: directly the read works at once; the gateway cannot yet tell which server owns the URI.
      const early = await rpcError(v.client.readResource({ uri }));
      assert.equal(early.code, -32002);
      assert.match(early.message, /UNKNOWN_RESOURCE/);
      const listed = (await v.client.listResources()).resources.map((r) => r.uri);
      assert.ok(listed.includes(uri) && listed.includes('memory://knowledge-graph'), listed.join(','));
      await v.client.readResource({ uri });
      await d.client.readResource({ uri });
      assert.deepEqual(resultOf(v, 'resources/read'), resultOf(d, 'resources/read'));
      const graph = await v.client.readResource({ uri: 'memory://knowledge-graph' });
      assert.equal(graph.contents[0].uri, 'memory://knowledge-graph');
    });

    test('sampling and progress still reach the caller of a namespaced tool', async () => {
      const r = await v.client.callTool({ name: 'every__trigger-sampling-request', arguments: { prompt: 'prefixed' } });
      assert.equal(v.sampling.length, 1);
      assert.match(textOf(r), /sampled answer/);
      const seen: number[] = [];
      await v.client.callTool({ name: 'every__trigger-long-running-operation', arguments: { duration: 0.2, steps: 2 } }, undefined, { onprogress: (p) => void seen.push(p.progress) });
      assert.deepEqual(seen, [1, 2]);
    });
  });

  // ---------------------------------------------------------------------------

  describe('pagination (an SDK low-level Server that pages; the reference servers never do)', SEQUENTIAL, () => {
    const cleanup = new Cleanup();
    const paged = (prefix: boolean) => ({ command: NODE, args: PAGED_SERVER_ARGS, cwd: PAGED_SERVER_CWD, prefix, sandbox: { filesystem: { read_only: [PAGED_SERVER_CWD] } } });
    let d: Probe;
    let h: GatewayHarness;
    let v: Probe;

    async function walk(p: Probe, method: 'listResources' | 'listTools' | 'listPrompts'): Promise<string[][]> {
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const r = (await p.client[method](cursor ? { cursor } : undefined)) as unknown as Record<string, { uri?: string; name?: string }[]> & { nextCursor?: string };
        const items = r.resources ?? r.tools ?? r.prompts;
        pages.push(items.map((i) => i.uri ?? i.name!));
        cursor = r.nextCursor;
        assert.ok(pages.length < 20, 'cursor loop');
      } while (cursor);
      return pages;
    }

    before(async () => {
      d = await direct(cleanup, NODE, PAGED_SERVER_ARGS, { cwd: PAGED_SERVER_CWD, capabilities: {} });
      h = await startGateway(cleanup, { servers: { paged: paged(false) }, identities: { all: ALL } });
      v = await h.connect('all', { capabilities: {} });
    });
    after(() => cleanup.run());

    test('resources, tools and prompts page through the gateway exactly as the server cut them, following the gateway’s nextCursor', async () => {
      for (const method of ['listResources', 'listTools', 'listPrompts'] as const) {
        const viaPages = await walk(v, method);
        const directPages = await walk(d, method);
        assert.deepEqual(viaPages, directPages, method);
        assert.ok(viaPages.length >= 2, `${method}: several pages`);
      }
      assert.deepEqual((await walk(v, 'listResources')).map((p) => p.length), [3, 3, 2]);
    });

    test('a cursor the gateway did not issue is refused with -32602', async () => {
      const e = await rpcError(v.client.listResources({ cursor: 'page-3' }));
      assert.equal(e.code, -32602);
    });

    test('a tool on the server’s last page is callable by a session that never listed tools', async () => {
      const fresh = await h.connect('all', { capabilities: {} });
      assert.equal(textOf(await fresh.client.callTool({ name: 'tool-7', arguments: {} })), 'called tool-7');
    });

    test('next to a second server, each client page carries one page of each server until both are exhausted', async () => {
      const both = await startGateway(cleanup, { servers: { paged: paged(true), every: everything(true) }, identities: { all: ALL } });
      const c = await both.connect('all');
      const everyDirect = await direct(cleanup, NODE, [EVERYTHING, 'stdio']);
      const everyUris = (await everyDirect.client.listResources()).resources.map((r) => r.uri);
      const pages = await walk(c, 'listResources');
      assert.equal(pages.length, 3);
      assert.deepEqual(pages[0].filter((u) => u.startsWith('paged://')).length, 3);
      assert.deepEqual(pages[0].filter((u) => !u.startsWith('paged://')).sort(), [...everyUris].sort());
      assert.deepEqual(pages.flat().filter((u) => u.startsWith('paged://')), Array.from({ length: 8 }, (_, i) => `paged://item/${i + 1}`));
      const tools = (await walk(c, 'listTools')).flat();
      assert.equal(tools.filter((t) => t.startsWith('paged__')).length, 7);
      assert.ok(tools.includes('every__echo'));
    });
  });

  // ---------------------------------------------------------------------------

  describe('server-filesystem behind the gateway', SEQUENTIAL, () => {
    const cleanup = new Cleanup();
    let dir: string;
    let outside: string;
    let d: Probe;
    let h: GatewayHarness;
    let reader: Probe;
    const DENIED = ['write_file', 'edit_file', 'move_file', 'create_directory'];

    before(async () => {
      // The server is sandboxed with <base> mounted, but its own allowed directory (its argument) is <base>/project.
      const base = await tempDir(cleanup, 'portcullis-real-fs-', 0o777);
      dir = await subDir(base, 'project');
      outside = await subDir(base, 'other');
      await subDir(dir, 'public');
      await writeFile(join(dir, 'public', 'a.txt'), 'public A\n');
      await writeFile(join(dir, 'public', 'b.md'), '# b\n');
      await writeFile(join(dir, 'secret.txt'), 'TOP SECRET\n');
      await writeFile(join(outside, 'elsewhere.txt'), 'NOT YOURS\n');
      // Constraints see the raw string, so a path prefix must also refuse ".." segments (docs/config.md).
      const inPublic = { type: 'string', pattern: `^${escapeRegExp(dir)}/public/(?!(?:.*/)?\\.\\.(?:/|$))` };
      d = await direct(cleanup, NODE, [FILESYSTEM, dir], { capabilities: {} });
      h = await startGateway(cleanup, {
        servers: { fs: { command: NODE, args: [FILESYSTEM, dir], sandbox: { filesystem: { read_write: [base] } } } },
        identities: {
          reader: {
            allowed_tools: ['fs.*'],
            denied_tools: ['fs.write_*', 'fs.edit_file', 'fs.move_file', 'fs.create_directory'],
            argument_constraints: { 'fs.read_text_file': { properties: { path: inPublic } } },
          },
          writer: { allowed_tools: ['fs.write_file', 'fs.read_text_file'], argument_constraints: { 'fs.write_file': { properties: { path: inPublic } } } },
          bystander: { allowed_tools: ['fs.list_allowed_directories', 'fs.read_text_file'] },
        },
      });
      reader = await h.connect('reader', { capabilities: {} });
    });
    after(() => cleanup.run());

    test('list_directory and read_text_file through the gateway return exactly what the server returns directly', async () => {
      for (const [name, args] of [
        ['list_directory', { path: dir }],
        ['list_directory', { path: join(dir, 'public') }],
        ['read_text_file', { path: join(dir, 'public', 'a.txt') }],
      ] as [string, Json][]) {
        await d.client.callTool({ name, arguments: args });
        await reader.client.callTool({ name: `fs__${name}`, arguments: args });
        assert.deepEqual(resultOf(reader, 'tools/call'), resultOf(d, 'tools/call'), name);
      }
      const read = await reader.client.callTool({ name: 'fs__read_text_file', arguments: { path: join(dir, 'public', 'a.txt') } });
      assert.equal(textOf(read), 'public A\n');
      assert.match(textOf(await reader.client.callTool({ name: 'fs__list_directory', arguments: { path: dir } })), /\[DIR\] public/);
    });

    test('denied write/edit/move/create tools are absent from tools/list and refused with TOOL_NOT_ALLOWED; nothing changes on disk', async () => {
      const directNames = (await d.client.listTools()).tools.map((t) => t.name);
      assert.ok(DENIED.every((n) => directNames.includes(n)), 'the server offers them');
      const viaNames = (await reader.client.listTools()).tools.map((t) => t.name);
      const expected = directNames.filter((n) => !DENIED.includes(n)).map((n) => `fs__${n}`);
      assert.deepEqual([...viaNames].sort(), [...expected].sort());
      const attempts: [string, Json][] = [
        ['write_file', { path: join(dir, 'public', 'new.txt'), content: 'pwned' }],
        ['edit_file', { path: join(dir, 'public', 'a.txt'), edits: [{ oldText: 'public', newText: 'pwned' }] }],
        ['move_file', { source: join(dir, 'public', 'a.txt'), destination: join(dir, 'public', 'moved.txt') }],
        ['create_directory', { path: join(dir, 'public', 'newdir') }],
      ];
      for (const [name, args] of attempts) {
        const e = await rpcError(reader.client.callTool({ name: `fs__${name}`, arguments: args }));
        assert.equal(e.data?.code, 'TOOL_NOT_ALLOWED', name);
        assert.equal(e.code, -32010);
      }
      assert.equal(existsSync(join(dir, 'public', 'new.txt')), false);
      assert.equal(existsSync(join(dir, 'public', 'moved.txt')), false);
      assert.equal(existsSync(join(dir, 'public', 'newdir')), false);
      assert.equal(await readFile(join(dir, 'public', 'a.txt'), 'utf8'), 'public A\n');
    });

    test('an argument constraint refuses read_text_file outside public/ with ARGUMENT_CONSTRAINT, though the server itself would serve the file', async () => {
      const served = await d.client.callTool({ name: 'read_text_file', arguments: { path: join(dir, 'secret.txt') } });
      assert.equal(textOf(served), 'TOP SECRET\n', 'precondition: the server serves it');
      const e = await rpcError(reader.client.callTool({ name: 'fs__read_text_file', arguments: { path: join(dir, 'secret.txt') } }));
      assert.equal(e.code, -32602);
      assert.equal(e.data?.code, 'ARGUMENT_CONSTRAINT');
      assert.equal(e.data?.guard, 'argument-validation');
      assert.doesNotMatch(e.message, /TOP SECRET/);
    });

    test('an argument constraint on write_file stops the write before the server sees it: nothing outside public/, the file inside public/', async () => {
      const writer = await h.connect('writer', { capabilities: {} });
      const e = await rpcError(writer.client.callTool({ name: 'fs__write_file', arguments: { path: join(dir, 'planted.txt'), content: 'x' } }));
      assert.equal(e.data?.code, 'ARGUMENT_CONSTRAINT');
      assert.equal(existsSync(join(dir, 'planted.txt')), false);
      const ok = await writer.client.callTool({ name: 'fs__write_file', arguments: { path: join(dir, 'public', 'note.txt'), content: 'written via gateway' } });
      assert.notEqual(ok.isError, true);
      assert.equal(await readFile(join(dir, 'public', 'note.txt'), 'utf8'), 'written via gateway');
    });

    test('a public/ path-prefix constraint written as docs/config.md advises also refuses public/../ traversal', async () => {
      const attempt = reader.client.callTool({ name: 'fs__read_text_file', arguments: { path: `${dir}/public/../secret.txt` } });
      const e = await rpcError(attempt);
      assert.equal(e.data?.code, 'ARGUMENT_CONSTRAINT');
    });

    // Last in this suite: when the bug is present it rewrites the shared server's allowed directories.
    test('a client’s roots cannot replace the filesystem server’s configured directories for every session', async () => {
      const bystander = await h.connect('bystander', { capabilities: {} });
      const rooted = await h.connect('reader', { roots: [{ uri: `file://${outside}`, name: 'mine' }] });
      const call = rooted.client.callTool({ name: 'fs__read_text_file', arguments: { path: join(dir, 'public', 'a.txt') } });
      await rooted.client.sendRootsListChanged();
      await call;
      await sleep(200);
      const allowed = textOf(await bystander.client.callTool({ name: 'fs__list_allowed_directories', arguments: {} }));
      const stolen = await bystander.client.callTool({ name: 'fs__read_text_file', arguments: { path: join(outside, 'elsewhere.txt') } });
      assert.equal(rooted.rootsAsked, 0, 'the server never asked the client for roots');
      assert.match(allowed, new RegExp(escapeRegExp(dir)));
      assert.equal(stolen.isError, true, `read outside the configured directory: ${textOf(stolen)}`);
    });
  });

  // ---------------------------------------------------------------------------

  describe('over Streamable HTTP: the inspector CLI and an SDK client', SEQUENTIAL, () => {
    const cleanup = new Cleanup();
    let url: string;
    let dataDir: string;
    let h: GatewayHarness;
    const token = async (identity: string) => issueToken(await loadOrCreateSigningKey(dataDir), { identity, ttlSeconds: 120, audience: 'portcullis', issuer: 'portcullis-local' });
    const cli = (...args: string[]) => inspector([url, '--transport', 'http'], args);

    before(async () => {
      h = await startGateway(cleanup, {
        anonymous_identity: 'inspector',
        servers: { every: everything(false) },
        identities: {
          inspector: { ...ALL, denied_tools: ['every.get-env', 'every.trigger-*'] },
          narrow: { allowed_tools: ['every.echo'] },
          full: ALL,
        },
      });
      dataDir = h.dataDir;
      url = (await h.http()).url.href;
    });
    after(() => cleanup.run());

    test('inspector tools/list lists the allowed tools, none of the denied ones, with the server’s definitions', async () => {
      const [via, straight] = await Promise.all([cli('--method', 'tools/list'), inspector([NODE, EVERYTHING, 'stdio'], ['--method', 'tools/list'])]);
      assert.equal(via.code, 0, via.stderr);
      assert.equal(straight.code, 0, straight.stderr);
      const viaTools = (JSON.parse(via.stdout) as { tools: Json[] }).tools;
      const directTools = (JSON.parse(straight.stdout) as { tools: Json[] }).tools;
      const names = viaTools.map((t) => String(t.name));
      for (const n of ['echo', 'get-sum', 'get-structured-content']) assert.ok(names.includes(n), n);
      for (const n of names) assert.ok(n !== 'get-env' && !n.startsWith('trigger-'), `${n} is denied`);
      // Every tool the inspector sees directly is shown identically unless denied…
      for (const t of directTools) {
        const denied = t.name === 'get-env' || String(t.name).startsWith('trigger-');
        const shown = viaTools.find((x) => x.name === t.name);
        if (denied) assert.equal(shown, undefined, String(t.name));
        else assert.deepEqual(shown, t, String(t.name));
      }
      // The gateway declares no roots upstream, so it unlocks no roots-dependent tool.
      assert.deepEqual(names.filter((n) => !directTools.some((t) => t.name === n)).sort(), []);
    });

    test('inspector tools/call runs an allowed tool and prints the server’s result', async () => {
      const r = await cli('--method', 'tools/call', '--tool-name', 'get-sum', '--tool-arg', 'a=2', 'b=40');
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { content: [{ type: 'text', text: 'The sum of 2 and 40 is 42.' }] });
    });

    test('inspector tools/call of a denied tool fails with TOOL_NOT_ALLOWED', async () => {
      const r = await cli('--method', 'tools/call', '--tool-name', 'get-env');
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /TOOL_NOT_ALLOWED: tool every\.get-env is denied for identity inspector/);
    });

    test('inspector resources/read and prompts/get return the server’s content', async () => {
      const [res, prompt] = await Promise.all([
        cli('--method', 'resources/read', '--uri', 'demo://resource/static/document/features.md'),
        cli('--method', 'prompts/get', '--prompt-name', 'args-prompt', '--prompt-args', 'city=Oslo'),
      ]);
      assert.equal(res.code, 0, res.stderr);
      const contents = (JSON.parse(res.stdout) as { contents: { uri: string; text: string }[] }).contents;
      assert.equal(contents[0].uri, 'demo://resource/static/document/features.md');
      assert.ok(contents[0].text.length > 100);
      assert.equal(prompt.code, 0, prompt.stderr);
      assert.equal((JSON.parse(prompt.stdout) as { messages: { content: { text: string } }[] }).messages[0].content.text, "What's weather in Oslo?");
    });

    test('the inspector with a bearer token acts as that identity and sees only its tools', async () => {
      const r = await cli('--method', 'tools/list', '--header', `Authorization: Bearer ${await token('narrow')}`);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual((JSON.parse(r.stdout) as { tools: { name: string }[] }).tools.map((t) => t.name), ['echo']);
    });

    test('an SDK client over HTTP gets sampling requests and progress relayed on the call’s stream', async () => {
      const p = probe();
      await attach(cleanup, p, new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${await token('full')}` } } }));
      const r = await p.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'over http' } });
      assert.equal(p.sampling.length, 1);
      assert.match(textOf(r), /sampled answer/);
      const seen: number[] = [];
      await p.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } }, undefined, { onprogress: (x) => void seen.push(x.progress) });
      assert.deepEqual(seen, [1, 2, 3]);
    });
  });

  // ---------------------------------------------------------------------------

  describe('server-everything as a Streamable HTTP upstream', SEQUENTIAL, () => {
    const cleanup = new Cleanup();
    let d: Probe;
    let v: Probe;

    before(async () => {
      const upstream = await startEverythingHttp(cleanup);
      d = await directHttp(cleanup, upstream);
      const h = await startGateway(cleanup, { servers: { every: { url: upstream.href, prefix: false } }, identities: { all: ALL } });
      v = await h.connect('all');
    });
    after(() => cleanup.run());

    test('tools/list, serverInfo and a structured result match a direct HTTP client', async () => {
      await d.client.listTools();
      await v.client.listTools();
      const direct = resultOf(d, 'tools/list');
      const withoutRoots = { ...direct, tools: (direct.tools as Json[]).filter((t) => t.name !== 'get-roots-list') };
      assert.equal(JSON.stringify(resultOf(v, 'tools/list')), JSON.stringify(withoutRoots));
      assert.deepEqual(resultOf(v, 'initialize').serverInfo, resultOf(d, 'initialize').serverInfo);
      const { direct: dr, via: vr } = await callBoth(d, v, 'get-structured-content', { location: 'Los Angeles' });
      assert.deepEqual(vr, dr);
    });

    test('sampling and progress cross both HTTP hops to the calling client', async () => {
      const { direct: dr, via: vr } = await callBoth(d, v, 'trigger-sampling-request', { prompt: 'two hops' });
      assert.deepEqual(v.sampling, d.sampling);
      assert.deepEqual(vr, dr);
      const seen: number[] = [];
      await v.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } }, undefined, { onprogress: (x) => void seen.push(x.progress) });
      assert.deepEqual(seen, [1, 2, 3]);
    });
  });
});
