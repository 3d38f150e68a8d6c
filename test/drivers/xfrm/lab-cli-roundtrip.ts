/**
 * Lab scenario (a): the CLI round trip. Namespace `ra` gets every SA and policy kind of
 * fixtures/netlink/states.batch (installed by `ip`); the real binary runs
 * `get --from xfrm:?netns=ra | put --to xfrm:?netns=rb`; then `ip -s xfrm state` and
 * `ip xfrm policy` of rb must equal ra's field by field, except the outbound counters of
 * outbound SAs, which must be exactly the exported value plus the jump (these SAs never sent a
 * packet, so the jump is the floor, 65536), carried into oseq-hi under ESN.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { readXfrmState } from '../../../lib/drivers/xfrm/state.js';
import { compareOutputs, entries, fieldCount, ip } from './ip-oracle.js';
import { saFields, withoutOseq } from './ip-state-fields.js';
import { type Gateway, Tally, ipBatch, pipeline, work } from './lab-kit.js';

const FLOOR = 65_536n;

export function cliRoundTrip(a: Gateway, b: Gateway): boolean {
  const t = new Tally('a-cli-roundtrip');
  ipBatch(undefined, ['netns add ra', 'netns add rb']);
  execFileSync('ip', ['-n', 'ra', '-batch', 'fixtures/netlink/states.batch']);
  const outbound = new Set(
    readXfrmState({ netns: 'ra' })
      .childSas.filter((child) => child.direction === 'out' && child.protocol !== 'ipcomp')
      .map((child) => `${Buffer.from(child.spi).toString('hex')}@${child.destination}`),
  );
  const beforeState = ip('ra', ['-s', 'xfrm', 'state']);
  const beforePolicy = ip('ra', ['xfrm', 'policy']);

  const run = pipeline(
    `"$BIN" get --from 'xfrm:?netns=ra' -i ${a.key} -r ${b.pub} | "$BIN" put --to 'xfrm:?netns=rb' -i ${b.key} --trust ${a.pub} --state-dir ${join(work, 'state-a')}`,
  );
  t.check(run.status === 0, `get | put exits 0 (${run.ms} ms for both processes)`, run.stderr);
  t.info(run.stderr.trim().replace(/\n/g, ' / '));

  const afterState = ip('rb', ['-s', 'xfrm', 'state']);
  const afterPolicy = ip('rb', ['xfrm', 'policy']);
  // The IP-in-IP SA of an IPComp tunnel is the kernel's own: made anew, with a new add time.
  const ignore = (key: string, line: string) => / proto 4 spi /.test(key) && /^\s+add /.test(line);
  const stateDiff = compareOutputs(withoutOseq(beforeState), withoutOseq(afterState), ignore);
  t.check(
    stateDiff.length === 0,
    `ip -s xfrm state: ${entries(beforeState).length} entries, ${fieldCount(beforeState)} fields equal apart from oseq`,
    stateDiff.map((d) => `${d.key}\n  before: ${d.before.join(' | ')}\n  after:  ${d.after.join(' | ')}`).join('\n'),
  );
  const policyDiff = compareOutputs(beforePolicy, afterPolicy);
  t.check(policyDiff.length === 0, `ip xfrm policy: ${entries(beforePolicy).length} entries, ${fieldCount(beforePolicy)} fields equal`, JSON.stringify(policyDiff));

  const before = saFields(beforeState);
  const after = saFields(afterState);
  const wrong: string[] = [];
  for (const [key, old] of before) {
    const now = after.get(key);
    const expected = outbound.has(key) ? old.oseq + FLOOR : old.oseq;
    if (!now || now.oseq !== expected) wrong.push(`${key}: oseq ${now?.oseq.toString(16)}, want ${expected.toString(16)}`);
  }
  t.check(outbound.size > 0 && wrong.length === 0, `oseq of the ${outbound.size} outbound SAs is the exported value + ${FLOOR} (ESN carry included); the others unchanged`, wrong.join('\n'));
  return t.done();
}
