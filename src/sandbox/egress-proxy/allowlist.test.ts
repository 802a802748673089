import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Allowlist, parseAuthority } from './allowlist.js';

test('exact host:port pairs match case-insensitively and only on their port', () => {
  const list = new Allowlist(['API.example.com:443', '127.0.0.1:8080', '[::1]:9000']);
  assert.equal(list.match('api.example.com', 443)?.source, 'API.example.com:443');
  assert.equal(list.match('api.example.com.', 443)?.source, 'API.example.com:443');
  assert.equal(list.match('api.example.com', 80), undefined);
  assert.equal(list.match('evil.api.example.com', 443), undefined);
  assert.equal(list.match('127.0.0.1', 8080)?.source, '127.0.0.1:8080');
  assert.equal(list.match('localhost', 8080), undefined, 'a name is not its address');
  assert.equal(list.match('::1', 9000)?.source, '[::1]:9000');
});

test('a wildcard matches subdomains, not the bare domain or look-alikes', () => {
  const list = new Allowlist(['*.example.com:443']);
  assert.ok(list.match('a.example.com', 443));
  assert.ok(list.match('a.b.example.com', 443));
  assert.equal(list.match('example.com', 443), undefined);
  assert.equal(list.match('evilexample.com', 443), undefined);
});

test('CONNECT authorities are parsed strictly', () => {
  assert.deepEqual(parseAuthority('example.com:443'), { host: 'example.com', port: 443 });
  assert.deepEqual(parseAuthority('[::1]:80'), { host: '::1', port: 80 });
  assert.equal(parseAuthority('example.com'), undefined);
  assert.equal(parseAuthority('example.com:0'), undefined);
  assert.equal(parseAuthority('a/b:80'), undefined);
  assert.equal(parseAuthority('example.com:99999'), undefined);
});
