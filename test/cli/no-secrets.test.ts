/**
 * No key material in any output unless --show-keys: every command, success or failure, is
 * run and everything it printed is searched for every secret the fixtures and identities
 * hold, in hex, base64 and base32.
 */
import test from 'ava';
import { copyFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { encodeSecretKey } from '../../lib/crypto/key-text.js';
import { base32Encode } from '../../lib/crypto/base32.js';
import { Context } from '../../lib/model/context.js';
import { secretFieldNames } from '../../lib/model/secret.js';
import { NOW_MS, run, type RunResult } from '../helpers/cli.js';
import { FIXTURES, GATEWAY_FIXTURES, fixtureContext, testIdentity, workspace } from '../helpers/workspace.js';

const SECRET_FIELDS = secretFieldNames(Context);

function secretsIn(value: unknown, found: Uint8Array[] = []): Uint8Array[] {
  if (Array.isArray(value)) value.forEach((item) => secretsIn(item, found));
  else if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    for (const [key, item] of Object.entries(value)) {
      if (SECRET_FIELDS.has(key) && item instanceof Uint8Array && item.byteLength >= 8) found.push(item);
      else secretsIn(item, found);
    }
  }
  return found;
}

function needles(secret: Uint8Array): string[] {
  const b = Buffer.from(secret);
  // A 12-byte window is enough to call it a leak and long enough to never match by chance.
  const window = b.subarray(0, Math.min(b.length, 12));
  return [window.toString('hex'), window.toString('base64').slice(0, 14), base32Encode(window).slice(0, 16), base32Encode(window).slice(0, 16).toUpperCase()];
}

async function everyCommand(t: import('ava').ExecutionContext, showKeys: boolean): Promise<RunResult[]> {
  const ws = workspace(t);
  const a = ws.identity('gw-a');
  const b = ws.identity('gw-b');
  const results: RunResult[] = [];
  const go = async (argv: string[], stdin?: Uint8Array, nowMs = NOW_MS) => {
    const result = await run(argv, { cwd: ws.dir, nowMs, ...(stdin ? { stdin } : {}) });
    results.push(result);
    return result;
  };
  for (const fixture of GATEWAY_FIXTURES) {
    copyFileSync(join(FIXTURES, 'gateways', fixture), ws.path('gw-a.json'));
    const blob = (await go(['get', '--from', 'file:gw-a.json', '-i', 'gw-a.key', '-r', b, '-r', a])).stdout;
    results.pop(); // the blob itself is ciphertext
    await go(['inspect', '-i', 'gw-b.key', ...(showKeys ? ['--show-keys'] : [])], blob);
    await go(['inspect', '-i', 'gw-b.key', '--json', ...(showKeys ? ['--show-keys'] : [])], blob);
    const target = `file:gw-b-${fixture}`;
    const put = ['put', '--to', target, '-i', 'gw-b.key', '--trust', a, '--state-dir', 'state'];
    await go([...put, '--dry-run'], blob);
    await go(put, blob);
    await go(put, blob); // replayed
    await go([...put, '--force'], blob, NOW_MS + 3_600_000); // expired
    await go(['put', '--to', target, '-i', 'gw-a.key', '--trust', b, '--state-dir', 'state2'], blob); // untrusted
    const truncated = blob.subarray(0, blob.byteLength - 7);
    await go(put, truncated);
    await go(['--debug', ...put], truncated);
  }
  await go(['keygen', '-o', 'gw-a.key']);
  await go(['put', '--to', 'file:x.json', '-i', 'gw-a.key', '--trust', readFileSync(ws.path('gw-a.key'), 'utf8').split('\n')[3] ?? ''], Buffer.alloc(0));
  return results;
}

const allSecrets = () => [
  ...GATEWAY_FIXTURES.flatMap((name) => secretsIn(fixtureContext(name))),
  ...['gw-a', 'gw-b'].flatMap((name) => {
    const identity = testIdentity(name);
    return [identity.x25519Secret, identity.ed25519Secret.subarray(0, 32)];
  }),
];

test('no output of any command contains key material without --show-keys', async (t) => {
  const output = (await everyCommand(t, false)).map((r) => r.out + r.stderr).join('\n');
  const secrets = allSecrets();
  t.true(secrets.length > 50);
  for (const secret of secrets) for (const needle of needles(secret)) t.false(output.includes(needle), `leaked ${needle.slice(0, 4)}…`);
  for (const name of ['gw-a', 'gw-b']) t.false(output.includes(encodeSecretKey(testIdentity(name)).slice(0, 24)));
});

test('with --show-keys the same search finds the keys (so the search itself works)', async (t) => {
  const output = (await everyCommand(t, true)).map((r) => r.out + r.stderr).join('\n');
  const fixtureSecrets = GATEWAY_FIXTURES.flatMap((name) => secretsIn(fixtureContext(name)));
  for (const secret of fixtureSecrets) t.true(output.includes(Buffer.from(secret).toString('hex')));
});

test('the golden files hold no key material', (t) => {
  const dir = join(FIXTURES, 'golden');
  const text = readdirSync(dir).map((name) => readFileSync(join(dir, name), 'utf8')).join('\n');
  for (const secret of allSecrets()) t.false(text.includes(Buffer.from(secret).toString('hex').slice(0, 24)));
});
