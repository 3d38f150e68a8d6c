/** `--help` of every command, kept as golden files; `UPDATE_GOLDEN=1 npm test` rewrites them. */
import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '../../lib/errors.js';
import { run } from '../helpers/cli.js';
import { FIXTURES, workspace } from '../helpers/workspace.js';

for (const command of ['', 'keygen', 'get', 'put', 'inspect', 'follow']) {
  test(`--help of ${command || 'ipsec-ctx'} matches its golden file and ends with a piped example`, async (t) => {
    const ws = workspace(t);
    const result = await run([...(command ? [command] : []), '--help'], { cwd: ws.dir});
    t.is(result.code, ExitCode.ok);
    t.regex(result.out, /\n  \$ .*ipsec-ctx .*\| .*\n$/);
    const golden = join(FIXTURES, 'golden', `help-${command || 'main'}.txt`);
    if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(golden)) writeFileSync(golden, result.out);
    t.is(result.out, readFileSync(golden, 'utf8'));
  });
}
