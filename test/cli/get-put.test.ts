import test from 'ava';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '../../lib/errors.js';
import { Context } from '../../lib/model/context.js';
import { parseContext } from '../../lib/model/validate.js';
import { NOW_MS, run } from '../helpers/cli.js';
import { FIXTURES, fixtureContext, workspace, type Workspace } from '../helpers/workspace.js';

const MINUTE = 60_000;

/** Two gateways' identities, and gw-a's state copied from a fixture. */
function setup(t: import('ava').ExecutionContext, fixture = 'site-to-site.json') {
  const ws = workspace(t);
  const a = ws.identity('gw-a');
  const b = ws.identity('gw-b');
  copyFileSync(join(FIXTURES, 'gateways', fixture), ws.path('gw-a.json'));
  return { ws, a, b };
}

async function get(ws: Workspace, recipient: string, extra: string[] = [], nowMs = NOW_MS) {
  return run(['get', '--from', 'file:gw-a.json', '-i', 'gw-a.key', '-r', recipient, ...extra], { cwd: ws.dir, nowMs, seed: `get ${nowMs} ${extra.join(' ')}` });
}

async function put(ws: Workspace, blob: Uint8Array, trust: string, extra: string[] = [], nowMs = NOW_MS) {
  return run(['put', '--to', 'file:gw-b.json', '-i', 'gw-b.key', '--trust', trust, '--state-dir', 'state', ...extra], { cwd: ws.dir, stdin: blob, nowMs });
}

/** The one-error-line voice: `ipsec-ctx: error: ...`, maybe one hint, never a stack trace. */
function assertOneError(t: import('ava').ExecutionContext, stderr: string, pattern: RegExp) {
  const lines = stderr.trimEnd().split('\n');
  t.regex(lines[0] ?? '', /^ipsec-ctx: error: /);
  t.regex(lines[0] ?? '', pattern);
  t.true(lines.length <= 2, stderr);
  if (lines[1] !== undefined) t.regex(lines[1], /^ipsec-ctx: hint: /);
  t.false(/\n\s+at /.test(stderr), 'no stack trace');
}

test('get | put restores every SA and policy on a new gateway, counters jumped forward', async (t) => {
  const { ws, a, b } = setup(t);
  const blob = await get(ws, b);
  t.is(blob.code, ExitCode.ok, blob.stderr);
  t.regex(blob.stderr, /^ipsec-ctx: sealed 1 IKE SA, 6 CHILD SAs, 9 policies from file:gw-a.json for 1 recipient\(s\)\n$/);
  const result = await put(ws, blob.stdout, a);
  t.is(result.code, ExitCode.ok, result.stderr);
  t.regex(result.stderr, /applied 1 IKE SA, 6 CHILD SAs, 9 policies from gw-zurich to file:gw-b.json: 16 added; 3 outbound counter\(s\) jumped forward/);

  const source = fixtureContext('site-to-site.json');
  const target = parseContext(JSON.parse(readFileSync(ws.path('gw-b.json'), 'utf8')));
  t.is(target.childSas.length, source.childSas.length);
  for (const child of source.childSas) {
    const restored = target.childSas.find((c) => c.id === child.id);
    if (!restored) return t.fail(`${child.id} missing`);
    t.deepEqual(restored.crypto, child.crypto);
    if (child.direction === 'out') t.true(restored.sequence.outbound > child.sequence.outbound);
    else t.deepEqual(restored.sequence, child.sequence);
  }
  t.deepEqual(target.policies, source.policies);
  t.deepEqual(target.ikeSas.map((ike) => ike.keys), source.ikeSas.map((ike) => ike.keys));
});

test('get writes a 0600 blob file with -o and refuses binary to a terminal', async (t) => {
  const { ws, b } = setup(t);
  const toFile = await run(['get', '--from', 'file:gw-a.json', '-i', 'gw-a.key', '-r', b, '-o', 'ctx.blob'], { cwd: ws.dir, stdoutIsTTY: true });
  t.is(toFile.code, ExitCode.ok);
  t.is((await import('node:fs')).statSync(ws.path('ctx.blob')).mode & 0o777, 0o600);
  const toTty = await run(['get', '--from', 'file:gw-a.json', '-i', 'gw-a.key', '-r', b], { cwd: ws.dir, stdoutIsTTY: true });
  t.is(toTty.code, ExitCode.usage);
  assertOneError(t, toTty.stderr, /refusing to write a binary blob to a terminal/);
  t.is(toTty.stdout.byteLength, 0);
});

test('get needs a recipient and an identity', async (t) => {
  const { ws, b } = setup(t);
  const noRecipient = await run(['get', '--from', 'file:gw-a.json', '-i', 'gw-a.key'], { cwd: ws.dir });
  t.is(noRecipient.code, ExitCode.usage);
  assertOneError(t, noRecipient.stderr, /at least one recipient/);
  const noIdentity = await run(['get', '--from', 'file:gw-a.json', '-r', b], { cwd: ws.dir });
  t.is(noIdentity.code, ExitCode.usage);
});

test('put refuses an untrusted signer and leaves no gateway behind', async (t) => {
  const { ws, b } = setup(t);
  const blob = await get(ws, b);
  const result = await put(ws, blob.stdout, b);
  t.is(result.code, ExitCode.auth);
  assertOneError(t, result.stderr, /blob signed by gw-zurich \(ipsecctx1.*\), which is not trusted/);
  t.false(existsSync(ws.path('gw-b.json')));
});

test('put needs a trust decision, and --trust-any-signer excludes --trust', async (t) => {
  const { ws, a, b } = setup(t);
  const blob = (await get(ws, b)).stdout;
  const none = await run(['put', '--to', 'file:gw-b.json', '-i', 'gw-b.key'], { cwd: ws.dir, stdin: blob });
  t.is(none.code, ExitCode.usage);
  assertOneError(t, none.stderr, /whose blobs to accept/);
  const both = await run(['put', '--to', 'file:gw-b.json', '-i', 'gw-b.key', '--trust', a, '--trust-any-signer'], { cwd: ws.dir, stdin: blob });
  t.is(both.code, ExitCode.usage);
  const any = await run(['put', '--to', 'file:gw-b.json', '-i', 'gw-b.key', '--trust-any-signer', '--state-dir', 's'], { cwd: ws.dir, stdin: blob, nowMs: NOW_MS });
  t.is(any.code, ExitCode.ok, any.stderr);
});

test('put with an identity the blob was not sealed to fails authentication', async (t) => {
  const { ws, a } = setup(t);
  const c = ws.identity('gw-c');
  const blob = await get(ws, c);
  const result = await put(ws, blob.stdout, a);
  t.is(result.code, ExitCode.auth);
  assertOneError(t, result.stderr, /not encrypted to the given identity/);
});

test('an expired blob is refused with exit 5', async (t) => {
  const { ws, a, b } = setup(t);
  const blob = await get(ws, b, ['--expires', '2m']);
  const result = await put(ws, blob.stdout, a, [], NOW_MS + 2 * MINUTE + 1_000);
  t.is(result.code, ExitCode.stale);
  assertOneError(t, result.stderr, /expired 1s ago/);
});

test('a replayed or older blob is refused unless --force, which skips only that check', async (t) => {
  const { ws, a, b } = setup(t);
  const older = await get(ws, b, [], NOW_MS);
  const newer = await get(ws, b, [], NOW_MS + 1_000);
  t.is((await put(ws, newer.stdout, a, [], NOW_MS + 2_000)).code, ExitCode.ok);
  const replayed = await put(ws, newer.stdout, a, [], NOW_MS + 3_000);
  t.is(replayed.code, ExitCode.stale);
  assertOneError(t, replayed.stderr, /was already applied/);
  const stale = await put(ws, older.stdout, a, [], NOW_MS + 3_000);
  t.is(stale.code, ExitCode.stale);
  assertOneError(t, stale.stderr, /older than one already applied/);
  t.is((await put(ws, newer.stdout, a, ['--force'], NOW_MS + 4_000)).code, ExitCode.ok);
  // --force does not bypass trust.
  t.is((await put(ws, newer.stdout, b, ['--force'], NOW_MS + 4_000)).code, ExitCode.auth);
});

test('put --dry-run prints the plan and changes nothing, not even the replay record', async (t) => {
  const { ws, a, b } = setup(t);
  const blob = (await get(ws, b)).stdout;
  const dry = await put(ws, blob, a, ['--dry-run']);
  t.is(dry.code, ExitCode.ok, dry.stderr);
  t.regex(dry.out, /^dry run: file:gw-b.json from gw-zurich: 16 added\n/);
  t.regex(dry.out, /\nseq     CHILD SA out esp spi [0-9a-f]{8} .*: \d+ -> \d+\n/);
  t.false(existsSync(ws.path('gw-b.json')));
  t.false(existsSync(ws.path('state/applied.json')));
  t.is((await put(ws, blob, a)).code, ExitCode.ok);
});

test('a conflicting SA fails with exit 6 and leaves the target byte for byte; --replace applies it', async (t) => {
  const { ws, a, b } = setup(t);
  const target = JSON.parse(readFileSync(join(FIXTURES, 'gateways', 'site-to-site.json'), 'utf8'));
  target.childSas[0].crypto.key = target.childSas[0].crypto.key.replace(/^../, 'ff');
  writeFileSync(ws.path('gw-b.json'), JSON.stringify(target));
  const before = readFileSync(ws.path('gw-b.json'));
  const blob = (await get(ws, b)).stdout;
  const result = await put(ws, blob, a);
  t.is(result.code, ExitCode.gateway);
  assertOneError(t, result.stderr, /exists with different keys.*nothing was changed/);
  t.deepEqual(readFileSync(ws.path('gw-b.json')), before);
  t.is((await put(ws, blob, a, ['--replace'])).code, ExitCode.ok);
});

test('corrupt, truncated and non-blob input are bad input (exit 3)', async (t) => {
  const { ws, a, b } = setup(t);
  const blob = (await get(ws, b)).stdout;
  for (const [what, bytes] of [
    ['truncated', blob.subarray(0, blob.byteLength - 1)],
    ['not a blob', Buffer.from('hello world\n')],
    ['empty', Buffer.alloc(0)],
  ] as const) {
    const result = await put(ws, bytes, a);
    t.is(result.code, ExitCode.badInput, what);
    assertOneError(t, result.stderr, /blob/);
  }
  t.false(existsSync(ws.path('gw-b.json')));
});

test('get --move takes exactly the exported SAs out of service on the source', async (t) => {
  const { ws, a, b } = setup(t, 'road-warrior.json');
  const road = fixtureContext('road-warrior.json');
  const connection = road.ikeSas[0]?.connection ?? '';
  const moved = await get(ws, b, ['--move', '--connection', connection]);
  t.is(moved.code, ExitCode.ok, moved.stderr);
  t.regex(moved.stderr, /moved: took \d+ record\(s\) out of service on file:gw-a.json/);
  const left = parseContext(JSON.parse(readFileSync(ws.path('gw-a.json'), 'utf8')));
  t.false(left.ikeSas.some((ike) => ike.connection === connection));
  const ofConnection = road.ikeSas.filter((ike) => ike.connection === connection);
  t.is(left.ikeSas.length, road.ikeSas.length - ofConnection.length);
  t.is((await put(ws, moved.stdout, a)).code, ExitCode.ok);
  const target = parseContext(JSON.parse(readFileSync(ws.path('gw-b.json'), 'utf8')));
  t.deepEqual(target.ikeSas.map((ike) => ike.id), ofConnection.map((ike) => ike.id));
});

test('get filters select whole tunnels', async (t) => {
  const { ws, a, b } = setup(t, 'road-warrior.json');
  const road = fixtureContext('road-warrior.json');
  const ike = road.ikeSas[1];
  if (!ike) return t.fail('fixture changed');
  const blob = await get(ws, b, ['--peer', ike.remote.address]);
  t.is(blob.code, ExitCode.ok);
  t.is((await put(ws, blob.stdout, a)).code, ExitCode.ok);
  const target = parseContext(JSON.parse(readFileSync(ws.path('gw-b.json'), 'utf8')));
  t.deepEqual(target.ikeSas.map((sa) => sa.id), [ike.id]);
  t.deepEqual(target.childSas.map((c) => c.id).sort(), [...ike.childSaIds].sort());
  t.deepEqual(Context.encode(target).ikeSas[0]?.keys, Context.encode(road).ikeSas[1]?.keys);
});

test('usage errors exit 2 with one line and a hint', async (t) => {
  const ws = workspace(t);
  for (const argv of [['bogus'], ['get'], ['put', '--to'], ['get', '--from', 'file:x', '--expires', '10 minutes']]) {
    const result = await run(argv, { cwd: ws.dir });
    t.is(result.code, ExitCode.usage, argv.join(' '));
    t.regex(result.stderr, /^ipsec-ctx: error: /, argv.join(' '));
  }
});

test('--version prints the package version', async (t) => {
  const ws = workspace(t);
  const pkg = JSON.parse(readFileSync(join(FIXTURES, '..', 'package.json'), 'utf8')) as { version: string };
  const result = await run(['--version'], { cwd: ws.dir });
  t.is(result.code, ExitCode.ok);
  t.is(result.out, `${pkg.version}\n`);
});
