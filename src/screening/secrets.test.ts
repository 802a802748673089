import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findSecrets, redactSecrets, redactText, luhnValid, ibanValid, sharedScanMemo, mayHoldFinding } from './secrets.js';
import { fuzzStrings } from '../../test/helpers/fuzz.js';

const kindsOf = (s: string, opts = {}) => findSecrets(s, opts).map((f) => f.kind);

test('finds common secret formats', () => {
  const cases: [string, string][] = [
    ['aws_access_key_id', 'key id AKIAIOSFODNN7EXAMPLE in config'],
    ['aws_secret_access_key', 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
    ['github_token', `token ghp_${'A1b2C3d4E5'.repeat(3)}abcdef`],
    ['github_token', `github_pat_11ABCDEFG0123456789_${'x'.repeat(40)}`],
    ['gitlab_token', 'glpat-xYz12345678901234567890'],
    ['slack_token', 'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx'],
    ['private_key', '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1234\n-----END RSA PRIVATE KEY-----'],
    ['private_key', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----'],
    ['jwt', 'Authorization token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'],
    ['connection_string', 'DATABASE_URL=postgres://app_user:Sup3rS3cret@db.internal:5432/app'],
    ['connection_string', 'mongodb+srv://admin:hunter2pass@cluster0.mongodb.net/test'],
    ['high_entropy_secret', 'api_key=9fQ2xLp0ZrT7vB3nM8kWq1'],
    ['high_entropy_secret', '{"client_secret": "Zx9_2kLm0PqR8sT5uV3wY7"}'],
    ['stripe_key', 'sk_live_51HqZ2eKf0123456789abcdefABCDEF'],
    ['google_api_key', 'AIzaSyD-1234567890abcdefghijklmnopqrstu'],
    ['password', 'password: correct-horse-battery'],
  ];
  for (const [kind, text] of cases) assert.ok(kindsOf(text).includes(kind as never), `${kind} in ${text}: got ${kindsOf(text).join(',')}`);
});

test('does not flag ordinary text, placeholders or low-entropy values', () => {
  for (const s of [
    'The meeting is at 10:30 on 2024-05-01.',
    'api_key=<your-api-key>',
    'password: ********',
    'password: string',
    'token = ${GITHUB_TOKEN}',
    'postgres://localhost:5432/app',
    'secret = aaaaaaaaaaaaaaaaaaaa',
    'The max_tokens value is 4096.',
  ]) {
    assert.deepEqual(kindsOf(s, { pii: false }), [], s);
  }
});

test('connection string redaction removes only the password', () => {
  const r = redactText('postgres://app:Sup3rS3cret@db.internal/app', { pii: false });
  assert.equal(r.text, 'postgres://app:[REDACTED:connection_string]@db.internal/app');
});

test('card numbers: valid Luhn flagged, invalid not', () => {
  assert.ok(luhnValid('4111 1111 1111 1111'));
  assert.ok(!luhnValid('4111 1111 1111 1112'));
  assert.deepEqual(kindsOf('Card: 4111 1111 1111 1111, exp 12/29'), ['payment_card']);
  assert.deepEqual(kindsOf('Card: 4111 1111 1111 1112, exp 12/29'), []);
  assert.deepEqual(kindsOf('Amex 3782-822463-10005'), ['payment_card']);
  assert.deepEqual(kindsOf('order 1234567812345678'), [], 'Luhn-invalid digit run');
});

test('PII: e-mail, phone, IBAN, SSN', () => {
  assert.deepEqual(kindsOf('Write to jane.doe@example.org today'), ['email']);
  assert.deepEqual(kindsOf('Call +44 20 7946 0958 or (555) 123-4567'), ['phone', 'phone']);
  assert.ok(ibanValid('DE89 3704 0044 0532 0130 00'));
  assert.ok(!ibanValid('DE89 3704 0044 0532 0130 01'));
  assert.deepEqual(kindsOf('IBAN DE89370400440532013000'), ['iban']);
  assert.deepEqual(kindsOf('SSN 123-45-6789'), ['us_ssn']);
  assert.deepEqual(kindsOf('jane.doe@example.org', { pii: false }), []);
});

test('redactSecrets walks values (call arguments) and never returns secret values in findings', () => {
  const args = {
    to: 'bob@example.com',
    body: 'here is the key AKIAIOSFODNN7EXAMPLE and db postgres://u:Passw0rd!x@h/db',
    auth: { password: 'letmein-2024', apiKey: 'abc' },
    list: ['ghp_' + 'Z'.repeat(36)],
  };
  const r = redactSecrets(args, { pii: false });
  const json = JSON.stringify(r);
  assert.ok(!json.includes('AKIAIOSFODNN7EXAMPLE'));
  assert.ok(!json.includes('Passw0rd!x'));
  assert.ok(!json.includes('letmein-2024'));
  assert.ok(!json.includes('Z'.repeat(36)));
  assert.equal(r.value.to, 'bob@example.com', 'PII kept when pii:false');
  assert.equal(r.value.auth.apiKey, 'abc', 'too short to be a credential');
  const counts = Object.fromEntries(r.found.map((f) => [f.kind, f.count]));
  assert.deepEqual(counts, { aws_access_key_id: 1, connection_string: 1, github_token: 1, password: 1 });
  assert.equal(args.auth.password, 'letmein-2024', 'input not mutated');
  const withPii = redactSecrets(args);
  assert.equal(withPii.value.to, '[REDACTED:email]');
});

test('a shared scan memo never lets a secret through: a string changed after the first scan is scanned afresh', () => {
  const token = `ghp_${'A1b2C3d4E5'.repeat(3)}abcdef`;
  const args: Record<string, unknown> = { note: 'plain words', nested: { ref: `see ${token}` } };
  const memo = sharedScanMemo(args);
  assert.deepEqual(redactText('plain words', { secrets: true, pii: false }, memo).found, []);
  assert.equal(redactText(`see ${token}`, { secrets: true, pii: false }, memo).found.length, 1);
  // What the screening found is reused for the audit record...
  assert.deepEqual(redactSecrets(args, { secrets: true, pii: false }).value, { note: 'plain words', nested: { ref: 'see [REDACTED:github_token]' } });
  // ...but a string swapped in afterwards (a guard rewriting arguments in place) is not taken for clean.
  args.note = `also ${token}`;
  const again = redactSecrets(args, { secrets: true, pii: false });
  assert.deepEqual(again.value, { note: 'also [REDACTED:github_token]', nested: { ref: 'see [REDACTED:github_token]' } });
  assert.deepEqual(again.found, [{ kind: 'github_token', category: 'secret', count: 2 }]);
});

test('the split prefilter never skips text the single prefilter expression would have scanned', () => {
  // The expression the prefilter replaced for speed; both must answer alike for every string.
  const SINGLE = /[@:=]|-----BEGIN|\d{3}|[A-Z]{2}\d{2}|\b(?:AKIA|ASIA|AIza|gh[pousr]_|github_pat_|gl[a-z]+-|xox|sk[-_]|rk_|npm_|SG\.|eyJ|bearer)/i;
  const alphabet = 'aAbBeEgGhHiIjJkKlLnNpPrRsStTxXyYzZ0123456789_-.@:= \n';
  const prefixes = ['AKIA', 'asia', 'AIza', 'ghp_', 'GHS_', 'github_pat_', 'glpat-', 'xox', 'sk-', 'SK_', 'rk_', 'npm_', 'SG.', 'eyJ', 'Bearer', '-----BEGIN', '-----begin'];
  for (const s of fuzzStrings(7, alphabet, prefixes, 50_000)) assert.equal(mayHoldFinding(s), SINGLE.test(s), JSON.stringify(s));
});
