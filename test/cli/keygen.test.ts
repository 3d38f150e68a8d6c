import test from 'ava';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { ExitCode } from '../../lib/errors.js';
import { PUBLIC_PREFIX } from '../../lib/crypto/key-text.js';
import { run } from '../helpers/cli.js';
import { workspace } from '../helpers/workspace.js';

test('keygen writes a 0600 identity and prints its public key on stdout', async (t) => {
  const ws = workspace(t);
  const result = await run(['keygen', '-o', 'gw.key'], { cwd: ws.dir });
  t.is(result.code, ExitCode.ok);
  t.regex(result.out, new RegExp(`^${PUBLIC_PREFIX}[a-z2-7]+\\n$`));
  t.is(statSync(ws.path('gw.key')).mode & 0o777, 0o600);
  t.true(readFileSync(ws.path('gw.key'), 'utf8').includes(`# public key: ${result.out.trim()}`));
  const again = await run(['keygen', '-y', 'gw.key'], { cwd: ws.dir });
  t.is(again.out, result.out);
});

test('keygen never overwrites an identity', async (t) => {
  const ws = workspace(t);
  writeFileSync(ws.path('gw.key'), 'precious\n');
  const result = await run(['keygen', '-o', 'gw.key'], { cwd: ws.dir });
  t.is(result.code, ExitCode.usage);
  t.regex(result.stderr, /^ipsec-ctx: error: .*gw.key already exists; not overwriting it\n/);
  t.is(readFileSync(ws.path('gw.key'), 'utf8'), 'precious\n');
});

test('keygen without -o refuses, so a secret never reaches the terminal', async (t) => {
  const ws = workspace(t);
  const result = await run(['keygen'], { cwd: ws.dir, stdoutIsTTY: true });
  t.is(result.code, ExitCode.usage);
  t.is(result.out, '');
});
