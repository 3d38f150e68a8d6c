/**
 * The real launcher, bin/ipsec-ctx, in real processes: pipes, exit statuses and files on
 * disk after failures. Most CLI behaviour is tested in-process (the other test/cli files).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '../../lib/errors.js';
import { FIXTURES, workspace } from '../helpers/workspace.js';

const BIN = join(FIXTURES, '..', 'bin', 'ipsec-ctx');
const sh = (script: string, cwd: string) => spawnSync('bash', ['-o', 'pipefail', '-c', script], { cwd, encoding: 'utf8', env: { ...process.env, BIN, IPSEC_CTX_STATE_DIR: join(cwd, 'state') } });

test('get | put through a real pipe moves a gateway, with only diagnostics on stderr', (t) => {
  const ws = workspace(t);
  copyFileSync(join(FIXTURES, 'gateways', 'ipv6-esn.json'), ws.path('gw-a.json'));
  const result = sh(
    `A=$("$BIN" keygen -o a.key) && B=$("$BIN" keygen -o b.key) &&
     "$BIN" get --from file:gw-a.json -i a.key -r "$B" | "$BIN" put --to file:gw-b.json -i b.key --trust "$A"`,
    ws.dir,
  );
  t.is(result.status, 0, result.stderr);
  t.is(result.stdout, '');
  t.regex(result.stderr, /ipsec-ctx: sealed 1 IKE SA, 4 CHILD SAs, 6 policies/);
  t.regex(result.stderr, /ipsec-ctx: applied 1 IKE SA, 4 CHILD SAs, 6 policies from gw6-frankfurt to file:gw-b.json/);
  t.true(existsSync(ws.path('gw-b.json')));
});

test('a failing put exits with its documented status and creates nothing', (t) => {
  const ws = workspace(t);
  copyFileSync(join(FIXTURES, 'gateways', 'site-to-site.json'), ws.path('gw-a.json'));
  const result = sh(
    `A=$("$BIN" keygen -o a.key) && B=$("$BIN" keygen -o b.key) &&
     "$BIN" get --from file:gw-a.json -i a.key -r "$B" | head -c 500 | "$BIN" put --to file:gw-b.json -i b.key --trust "$A"`,
    ws.dir,
  );
  t.is(result.status, ExitCode.badInput, result.stderr);
  t.regex(result.stderr, /ipsec-ctx: error: blob is truncated/);
  t.false(existsSync(ws.path('gw-b.json')));
});

test('an error is one line plus a hint, and a stack trace only with --debug', (t) => {
  const ws = workspace(t);
  // A directory where the gateway file should be.
  t.is(sh('"$BIN" keygen -o a.key > a.pub', ws.dir).status, 0);
  const script = (debug: string) => `"$BIN" ${debug} get --from file:. -i a.key -r "$(cat a.pub)" -o x.blob`;
  const plain = sh(script(''), ws.dir);
  t.is(plain.status, ExitCode.gateway);
  t.regex(plain.stderr, /^ipsec-ctx: error: cannot read file:\.: EISDIR\n$/m);
  t.notRegex(plain.stderr, /\n\s+at /);
  const debug = sh(script('--debug'), ws.dir);
  t.is(debug.status, ExitCode.gateway);
  t.regex(debug.stderr, /\n\s+at .*file-driver/);
});

test('--help piped into head exits cleanly (no EPIPE trace)', (t) => {
  const ws = workspace(t);
  const result = sh('"$BIN" put --help | head -1', ws.dir);
  t.is(result.status, 0);
  t.is(result.stdout, 'Usage: ipsec-ctx put [options] [file]\n');
  t.is(result.stderr, '');
});

test('the blob file written by get -o is mode 0600 and is not left behind when get fails', (t) => {
  const ws = workspace(t);
  copyFileSync(join(FIXTURES, 'gateways', 'site-to-site.json'), ws.path('gw-a.json'));
  const ok = sh('B=$("$BIN" keygen -o b.key) && "$BIN" keygen -o a.key >/dev/null && "$BIN" get --from file:gw-a.json -i a.key -r "$B" -o ctx.blob', ws.dir);
  t.is(ok.status, 0, ok.stderr);
  t.is((readFileSync(ws.path('ctx.blob')).byteLength > 0), true);
  const failed = sh('"$BIN" get --from file:missing.json -i a.key -r "$("$BIN" keygen -y b.key)" -o other.blob', ws.dir);
  t.is(failed.status, ExitCode.gateway, failed.stderr);
  t.false(existsSync(ws.path('other.blob')));
});
