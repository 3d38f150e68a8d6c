import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XFRM_MSG } from '../../../lib/drivers/xfrm/constants.js';
import { splitMessages } from '../../../lib/drivers/xfrm/netlink.js';
import type { KernelSa } from '../../../lib/drivers/xfrm/sa.js';
import { installRequests, kernelStateToModel, parsePolicyDump, parseSaDump, removeRequests, saDirection } from '../../../lib/drivers/xfrm/state.js';
import { FIXTURES } from '../../helpers/workspace.js';
import { compareOutputs } from './ip-oracle.js';

const DIR = join(FIXTURES, 'netlink');
const messages = (name: string, type: number) => splitMessages(readFileSync(join(DIR, name))).filter((m) => m.type === type);
const sas = parseSaDump(messages('states.sa.bin', XFRM_MSG.NEWSA));
const policies = parsePolicyDump(messages('states.policy.bin', XFRM_MSG.NEWPOLICY));
const sa = (spi: string) => sas.find((s) => Buffer.from(s.info.id.spi).toString('hex') === spi)!;

test('an SA picked by an out policy template is outbound; one an in/fwd template accepts is inbound', (t) => {
  t.is(saDirection(sa('c0000001'), policies), 'out'); // tunnel template of the out policy
  t.is(saDirection(sa('c0000002'), policies), 'in'); // tunnel template of the in and fwd policies
  t.is(saDirection(sa('c000000b'), policies), 'out'); // IPv6, marked, if_id
  t.is(saDirection(sa('c000000c'), policies), 'out'); // transport template: the selector's orientation
});

test('without a policy, counters and then the replay window decide', (t) => {
  t.is(saDirection(sa('c0000007'), []), 'out'); // ESN, oseq set
  t.is(saDirection(sa('c0000006'), []), 'in'); // ESN, seq set
  t.is(saDirection(sa('c0000011'), []), 'in'); // nothing sent or received, window 32
  t.is(saDirection(sa('c0000001'), []), 'out'); // oseq 0x1234
  const fresh: KernelSa = { ...sa('c0000008'), replay: { kind: 'legacy', window: 0, state: { oseq: 0, seq: 0, bitmap: 0 } } };
  t.is(saDirection(fresh, []), 'out'); // no window: outbound, as strongSwan installs them
});

test('XFRMA_SA_DIR (Linux 6.10+) wins over every guess', (t) => {
  t.is(saDirection({ ...sa('c0000001'), direction: 1 }, policies), 'in');
  t.is(saDirection({ ...sa('c0000002'), direction: 2 }, policies), 'out');
});

test('requests install SAs before policies and remove policies before SAs', (t) => {
  const model = kernelStateToModel({ sas, policies });
  const type = (message: Uint8Array) => Buffer.from(message).readUInt16LE(4);
  const install = installRequests(model.childSas, model.policies).map((r) => type(r.message));
  t.deepEqual(install, [...model.childSas.map(() => XFRM_MSG.NEWSA), ...model.policies.map(() => XFRM_MSG.NEWPOLICY)]);
  const remove = removeRequests(model.childSas, model.policies).map((r) => type(r.message));
  t.deepEqual(remove, [...model.policies.map(() => XFRM_MSG.DELPOLICY), ...model.childSas.map(() => XFRM_MSG.DELSA)]);
});

test('the ip oracle comparison finds a changed, a missing and an extra line', (t) => {
  const before = 'src 1.1.1.1 dst 2.2.2.2\n\tproto esp spi 0x1(1) reqid 1\n\tanti-replay context: seq 0x5\nsrc 3.3.3.3 dst 4.4.4.4\n\tproto esp spi 0x2(2) reqid 2\n';
  const after = 'src 1.1.1.1 dst 2.2.2.2\n\tproto esp spi 0x1(1) reqid 1\n\tanti-replay context: seq 0x6\nsrc 5.5.5.5 dst 6.6.6.6\n\tproto esp spi 0x3(3) reqid 3\n';
  const differences = compareOutputs(before, after);
  t.deepEqual(
    differences.map((d) => [d.key, d.before, d.after]),
    [
      ['src 1.1.1.1 dst 2.2.2.2 proto esp spi 0x1(1)', ['\tanti-replay context: seq 0x5'], ['\tanti-replay context: seq 0x6']],
      ['src 3.3.3.3 dst 4.4.4.4 proto esp spi 0x2(2)', ['src 3.3.3.3 dst 4.4.4.4', '\tproto esp spi 0x2(2) reqid 2'], []],
      ['src 5.5.5.5 dst 6.6.6.6 proto esp spi 0x3(3)', [], ['src 5.5.5.5 dst 6.6.6.6', '\tproto esp spi 0x3(3) reqid 3']],
    ],
  );
  t.deepEqual(compareOutputs(before, before), []);
});
