/**
 * `npm run demo`: the whole job on the embedded file gateway, through the real CLI.
 * Two gateways get identities, gw-a's context (a fixture) is sealed to gw-b, restored into a
 * fresh gw-b, inspected, and what moved is summarised. Everything happens in a temporary
 * directory that is removed afterwards.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseContext } from '../lib/model/validate.js';

const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'bin', 'ipsec-ctx');
const dir = mkdtempSync(join(tmpdir(), 'ipsec-ctx-demo-'));
const env = { ...process.env, IPSEC_CTX_STATE_DIR: join(dir, 'state') };

function step(title: string, args: string[], input?: Buffer): Buffer {
  console.log(`\n$ ipsec-ctx ${args.map((a) => (/\s|"/.test(a) || a.length > 40 ? `'${a.length > 40 ? `${a.slice(0, 24)}…` : a}'` : a)).join(' ')}${input ? ' < ctx.blob' : ''}   # ${title}`);
  const result = spawnSync(bin, args, { cwd: dir, env, input, maxBuffer: 1 << 30 });
  process.stderr.write(result.stderr);
  if (result.status !== 0) {
    console.error(`demo: step failed with exit status ${result.status}`);
    process.exit(1);
  }
  return result.stdout;
}

try {
  copyFileSync(join(root, 'fixtures', 'gateways', 'site-to-site.json'), join(dir, 'gw-a.json'));
  console.log(`ipsec-ctx demo in ${dir}: gw-a (file:gw-a.json, a site-to-site gateway) hands its tunnels to a fresh gw-b.`);
  const a = step('identity of gw-a', ['keygen', '-o', 'gw-a.key']).toString().trim();
  const b = step('identity of gw-b', ['keygen', '-o', 'gw-b.key']).toString().trim();
  step('read gw-a, seal to gw-b (and gw-a), sign as gw-a', ['get', '--from', 'file:gw-a.json', '-i', 'gw-a.key', '-r', b, '-r', a, '-o', 'ctx.blob']);
  process.stdout.write(step('what anyone can see without a key', ['inspect', 'ctx.blob']));
  process.stdout.write(step('what gw-b will change', ['put', '--to', 'file:gw-b.json', '-i', 'gw-b.key', '--trust', a, '--dry-run', 'ctx.blob']));
  step('restore on gw-b, all or nothing', ['put', '--to', 'file:gw-b.json', '-i', 'gw-b.key', '--trust', a, 'ctx.blob']);
  process.stdout.write(step('the moved context as gw-b sees it (keys hidden)', ['inspect', '-i', 'gw-b.key', 'ctx.blob']));
  const replay = spawnSync(bin, ['put', '--to', 'file:gw-b.json', '-i', 'gw-b.key', '--trust', a, 'ctx.blob'], { cwd: dir, env });
  console.log(`\n$ ipsec-ctx put ... ctx.blob   # the same blob again is refused (exit ${replay.status}):`);
  process.stdout.write(replay.stderr);

  const before = parseContext(JSON.parse(readFileSync(join(root, 'fixtures', 'gateways', 'site-to-site.json'), 'utf8')));
  const after = parseContext(JSON.parse(readFileSync(join(dir, 'gw-b.json'), 'utf8')));
  console.log('\nWhat moved from gw-a to gw-b:');
  const json = (value: unknown) => JSON.stringify(value, (_key, item) => (item instanceof Uint8Array ? Buffer.from(item).toString('hex') : item));
  const sameIke = before.ikeSas.every((ike, i) => {
    const moved = after.ikeSas[i];
    return moved !== undefined && json([ike.spiInitiator, ike.spiResponder, ike.keys, ike.messageIds]) === json([moved.spiInitiator, moved.spiResponder, moved.keys, moved.messageIds]);
  });
  console.log(`  IKE SAs   ${before.ikeSas.length} -> ${after.ikeSas.length} (same SPIs, keys and message IDs: ${sameIke})`);
  console.log(`  CHILD SAs ${before.childSas.length} -> ${after.childSas.length}`);
  console.log(`  policies  ${before.policies.length} -> ${after.policies.length}`);
  for (const child of before.childSas.filter((c) => c.direction === 'out')) {
    const moved = after.childSas.find((c) => c.id === child.id);
    console.log(`  outbound SPI ${Buffer.from(child.spi).toString('hex')}: sequence ${child.sequence.outbound} on gw-a -> ${moved?.sequence.outbound} on gw-b (never reused)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
