import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findConfigTyposquats } from './config-typosquats.js';

test('acceptance: mcp-slack-notifyer next to mcp-slack-notifier is flagged with the intended name', () => {
  const squats = findConfigTyposquats({
    slack: { command: 'npx', args: ['-y', 'mcp-slack-notifier@1.4.2'] },
    'slack-alerts': { command: 'npx', args: ['-y', 'mcp-slack-notifyer'] },
  });
  assert.deepEqual(squats.map((s) => [s.at, s.intended]), [[['servers', 'slack-alerts', 'args', 1], 'mcp-slack-notifier']]);
  assert.match(squats[0].message, /package "mcp-slack-notifyer" looks like "mcp-slack-notifier" \(a near-identical spelling\), a possible typosquat: if you meant "mcp-slack-notifier", correct the name/);
});

test('packages are compared with the shipped list, per ecosystem; server names with each other', () => {
  const squats = findConfigTyposquats({
    files: { command: 'npx', args: ['-y', '@modelcontext-protocol/server-filesystem@2025.8.21', '/srv'] },
    fetch: { command: 'uvx', args: ['mcp-server-fetсh==2025.4.7'] },
    tracker: { command: '/usr/local/bin/mcp-server-sentyr' },
    github: { url: 'https://api.example.com/mcp' },
    githbu: { url: 'https://api.example.com/other' },
  });
  assert.deepEqual(squats.map((s) => [s.at.join('.'), s.intended]), [
    ['servers.githbu', 'github'],
    ['servers.files.args.1', '@modelcontextprotocol/server-filesystem'],
    ['servers.fetch.args.0', 'mcp-server-fetch'],
    ['servers.tracker.command', 'mcp-server-sentry'],
  ]);
  assert.match(squats[0].message, /server name "githbu" looks like "github", another configured server/);
});

test('an ordinary config has no suspects: known packages, distinct names, interpreters, local scripts', () => {
  assert.deepEqual(
    findConfigTyposquats({
      crm: { command: 'node', args: ['/opt/mcp/crm/server.js'] },
      email: { command: 'node', args: ['/opt/mcp/email/server.js'] },
      files: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem@2025.8.21', '/srv'] },
      memory: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory@2025.8.4'] },
      fetch: { command: 'uvx', args: ['mcp-server-fetch==2025.4.7'] },
      time: { command: 'python3', args: ['-m', 'mcp_server_time'] },
      db1: { command: 'python', args: ['/opt/mcp/db.py', '--db', '1'] },
      db2: { command: 'python', args: ['/opt/mcp/db.py', '--db', '2'] },
    }),
    [],
  );
});
