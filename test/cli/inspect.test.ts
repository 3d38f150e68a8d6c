import test from 'ava';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '../../lib/errors.js';
import { NOW_MS, run } from '../helpers/cli.js';
import { FIXTURES, fixtureContext, workspace } from '../helpers/workspace.js';

async function sealedSite(t: import('ava').ExecutionContext) {
  const ws = workspace(t);
  const a = ws.identity('gw-a');
  const b = ws.identity('gw-b');
  copyFileSync(join(FIXTURES, 'gateways', 'site-to-site.json'), ws.path('gw-a.json'));
  const blob = await run(['get', '--from', 'file:gw-a.json', '-i', 'gw-a.key', '-r', b, '-o', 'ctx.blob'], { cwd: ws.dir });
  t.is(blob.code, ExitCode.ok, blob.stderr);
  return { ws, a, b };
}

test('inspect without -i shows the header only, with the signature checked', async (t) => {
  const { ws, a } = await sealedSite(t);
  const result = await run(['inspect', 'ctx.blob', '--trust', a], { cwd: ws.dir });
  t.is(result.code, ExitCode.ok, result.stderr);
  t.regex(result.out, /^blob       [0-9a-f]{32}\nsource     gw-zurich\nsigner     ipsecctx1/);
  t.regex(result.out, /signature  valid, trusted\n/);
  t.regex(result.out, /contents   1 IKE SA, 6 CHILD SAs, 9 policies/);
  t.notRegex(result.out, /CHILD SA in/);
});

test('inspect -i lists IKE SAs with their CHILD SAs and policies, keys hidden', async (t) => {
  const { ws } = await sealedSite(t);
  const result = await run(['inspect', '-i', 'gw-b.key', 'ctx.blob'], { cwd: ws.dir });
  t.is(result.code, ExitCode.ok, result.stderr);
  t.regex(result.out, /IKE SA branch-basel [0-9a-f]{16}_i [0-9a-f]{16}_r/);
  t.regex(result.out, /keys SK_d SK_ai SK_ar SK_ei SK_er SK_pi SK_pr Ni Nr \(hidden\)/);
  t.regex(result.out, /AES_GCM_16-256 \(ICV 128 bits\) key \(hidden\)/);
  t.regex(result.out, /outbound seq \d+/);
  t.regex(result.out, /lifetime hard 3600s \(\d+m(\d+s)? left\)/);
  t.regex(result.out, /policies \(9\):\n  policy in 10\.2\.0\.0\/16 -> 10\.1\.0\.0\/16/);
});

test('inspect --json is complete and redacted; --show-keys reveals the keys', async (t) => {
  const { ws } = await sealedSite(t);
  const hidden = JSON.parse((await run(['inspect', '-i', 'gw-b.key', '--json', 'ctx.blob'], { cwd: ws.dir })).out);
  t.is(hidden.header.source, 'gw-zurich');
  t.is(hidden.header.expired, false);
  t.is(hidden.context.childSas.length, 6);
  t.is(hidden.context.ikeSas[0].keys.skD, '(hidden)');
  t.is(hidden.context.childSas[0].crypto.key, '(hidden)');
  const shown = JSON.parse((await run(['inspect', '-i', 'gw-b.key', '--json', '--show-keys', 'ctx.blob'], { cwd: ws.dir })).out);
  const site = fixtureContext('site-to-site.json');
  t.is(shown.context.ikeSas[0].keys.skD, Buffer.from(site.ikeSas[0]?.keys.skD ?? []).toString('hex'));
});

test('inspect reports an expired blob instead of failing', async (t) => {
  const { ws } = await sealedSite(t);
  const result = await run(['inspect', 'ctx.blob'], { cwd: ws.dir, nowMs: NOW_MS + 3_600_000 });
  t.is(result.code, ExitCode.ok);
  t.regex(result.out, /EXPIRED 50m ago/);
});

test('inspect refuses a tampered blob and --show-keys without -i', async (t) => {
  const { ws } = await sealedSite(t);
  const blob = (await import('node:fs')).readFileSync(ws.path('ctx.blob'));
  blob.writeUInt8(blob.readUInt8(blob.byteLength - 100) ^ 1, blob.byteLength - 100);
  const tampered = await run(['inspect'], { cwd: ws.dir, stdin: blob });
  t.is(tampered.code, ExitCode.auth);
  t.is(tampered.out, '');
  t.is((await run(['inspect', '--show-keys', 'ctx.blob'], { cwd: ws.dir })).code, ExitCode.usage);
});

test('inspect output matches its golden files (UPDATE_GOLDEN=1 rewrites them)', async (t) => {
  const { ws, a } = await sealedSite(t);
  const { existsSync, readFileSync, writeFileSync } = await import('node:fs');
  for (const [name, argv] of [
    ['inspect-header.json', ['inspect', '--json', '--trust', a, 'ctx.blob']],
    ['inspect-site-to-site.txt', ['inspect', '-i', 'gw-b.key', 'ctx.blob']],
  ] as const) {
    const result = await run([...argv], { cwd: ws.dir });
    t.is(result.code, ExitCode.ok, result.stderr);
    const golden = join(FIXTURES, 'golden', name);
    if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(golden)) writeFileSync(golden, result.out);
    t.is(result.out, readFileSync(golden, 'utf8'), name);
  }
});
