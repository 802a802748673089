import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KNOWN_NPM_PACKAGES, KNOWN_PYPI_PACKAGES } from './known-servers.js';
import { editDistance, findTyposquats, skeleton } from './typosquat.js';

describe('findTyposquats', () => {
  test('separator games point at the intended name', () => {
    assert.deepEqual(findTyposquats('mcp-slack-notifyer', ['mcp-slack-notifier']), { intended: 'mcp-slack-notifier', why: ['edit-distance'] });
    assert.deepEqual(findTyposquats('mcp_slack.notifier', ['mcp-slack-notifier']), { intended: 'mcp-slack-notifier', why: ['separator'] });
  });

  test('scope and name are compared separately', () => {
    assert.deepEqual(findTyposquats('@modelcontext-protocol/server-filesystem', KNOWN_NPM_PACKAGES), {
      intended: '@modelcontextprotocol/server-filesystem',
      why: ['scope', 'separator'],
    });
    assert.deepEqual(findTyposquats('@modelcontextprotocol/server-filesytem', KNOWN_NPM_PACKAGES), {
      intended: '@modelcontextprotocol/server-filesystem',
      why: ['edit-distance'],
    });
    assert.deepEqual(findTyposquats('@modelcontextprotocoI/server-github', KNOWN_NPM_PACKAGES)?.why, ['scope', 'homoglyph']);
    assert.equal(findTyposquats('server-filesystem', KNOWN_NPM_PACKAGES)?.intended, '@modelcontextprotocol/server-filesystem', 'dropped scope');
    assert.equal(findTyposquats('@acme/server-filesystem', KNOWN_NPM_PACKAGES), undefined, 'another scope with an unrelated name is not a squat');
  });

  test('Unicode confusables, full-width forms and digit look-alikes are folded', () => {
    assert.deepEqual(findTyposquats('@modelcontextprotocol/server-memоry', KNOWN_NPM_PACKAGES)?.why, ['homoglyph'], 'Cyrillic o');
    assert.deepEqual(findTyposquats('mcp-server-fetсh', KNOWN_PYPI_PACKAGES)?.intended, 'mcp-server-fetch', 'Cyrillic es');
    assert.equal(findTyposquats('ｍｃｐ-ｒｅｍｏｔｅ', KNOWN_NPM_PACKAGES)?.intended, 'mcp-remote', 'full-width');
    assert.equal(findTyposquats('g1thub-tools', ['github-tools'])?.intended, 'github-tools');
    assert.equal(findTyposquats('rnemory-server', ['memory-server'])?.intended, 'memory-server');
    assert.equal(skeleton('Ｍcp_Sеrver.Fetch'), 'mcpserverfetch');
  });

  test('an exact known name is never flagged; short and digit-only differences are not squats', () => {
    for (const name of KNOWN_NPM_PACKAGES) assert.equal(findTyposquats(name, KNOWN_NPM_PACKAGES), undefined, name);
    assert.equal(findTyposquats('db1', ['db2']), undefined);
    assert.equal(findTyposquats('postgres-2', ['postgres-1']), undefined);
    assert.equal(findTyposquats('sqlite3', ['sqlite']), undefined);
    assert.equal(findTyposquats('time', ['tim']), undefined, 'too short for edits');
    assert.equal(findTyposquats('GitHub', ['github']), undefined, 'case only');
  });

  test('no false positives within the shipped lists or among ordinary distinct names', () => {
    for (const list of [KNOWN_NPM_PACKAGES, KNOWN_PYPI_PACKAGES]) {
      for (const name of list) {
        assert.equal(findTyposquats(name, list.filter((k) => k !== name)), undefined, `${name} flagged against the rest of its list`);
      }
    }
    const ordinary = ['github', 'gitlab', 'filesystem', 'memory', 'postgres', 'sqlite', 'slack', 'jira', 'linear', 'notion', 'sentry', 'browser', 'playwright', 'puppeteer', 'context7', 'fetch', 'time', 'weather', 'calendar', 'docs-search', 'code-search'];
    for (const name of ordinary) assert.equal(findTyposquats(name, ordinary.filter((k) => k !== name)), undefined, name);
  });

  test('editDistance counts a transposition as one edit and stops past max', () => {
    assert.equal(editDistance('notifier', 'notifeir'), 1);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('abcdef', 'uvwxyz', 1), 2);
  });
});
