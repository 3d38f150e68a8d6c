/**
 * Model -> netlink -> model without a kernel: every CHILD SA and policy of the gateway
 * fixtures (fixtures/gateways, shaped like strongSwan's kernel-netlink plugin installs them)
 * becomes a NEWSA/NEWPOLICY message that reads back as the same record.
 */
import test from 'ava';
import fc from 'fast-check';
import { deepStrictEqual } from 'node:assert/strict';
import { isIPv4, isIPv6 } from 'node:net';
import { canonicalAddress } from '../../../lib/model/address.js';
import { readAddress, writeAddress } from '../../../lib/drivers/xfrm/address.js';
import { splitMessages } from '../../../lib/drivers/xfrm/netlink.js';
import { delPolicyMessage, newPolicyMessage, parsePolicyMessage, policyToModel } from '../../../lib/drivers/xfrm/policy.js';
import { delSaMessage, newSaMessage, parseSaMessage, saToModel } from '../../../lib/drivers/xfrm/sa.js';
import { XFRM_MSG } from '../../../lib/drivers/xfrm/constants.js';
import { GATEWAY_FIXTURES, fixtureContext } from '../../helpers/workspace.js';

for (const name of GATEWAY_FIXTURES) {
  test(`${name}: every CHILD SA and policy reads back from its NEWSA/NEWPOLICY`, (t) => {
    const context = fixtureContext(name);
    for (const child of context.childSas) {
      const [message] = splitMessages(newSaMessage(child));
      const { ikeSaId: _ignored, ...withoutIke } = child;
      t.deepEqual(saToModel(parseSaMessage(message!), { id: child.id, direction: child.direction }), withoutIke, child.id);
    }
    for (const policy of context.policies) {
      const [message] = splitMessages(newPolicyMessage(policy));
      t.deepEqual(policyToModel(parsePolicyMessage(message!), { id: policy.id }), { ...policy, index: policy.index ?? 0 }, policy.id);
    }
    t.log(`${context.childSas.length} SAs, ${context.policies.length} policies`);
    t.pass();
  });
}

test('DELSA and DELPOLICY name the entry the way the kernel looks it up', (t) => {
  const context = fixtureContext('site-to-site.json');
  const child = context.childSas[0]!;
  const [del] = splitMessages(delSaMessage(child));
  t.is(del!.type, XFRM_MSG.DELSA);
  t.is(del!.payload.byteLength, 24); // xfrm_usersa_id, no mark on this SA
  t.deepEqual([...del!.payload.subarray(16, 20)], [...child.spi]);
  const policy = context.policies[0]!;
  const [delPolicy] = splitMessages(delPolicyMessage(policy));
  t.is(delPolicy!.type, XFRM_MSG.DELPOLICY);
  t.is(Buffer.from(delPolicy!.payload).readUInt32LE(56), policy.index!);
});

test('an address is written exactly when node calls it IPv4 or IPv6 (the dotted-quad fast path refuses the rest)', (t) => {
  const spellings = ['0.0.0.0', '255.255.255.255', '01.2.3.4', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '1.2.3.4 ', '10.0.0.00', '1.2.3.04', 'a.b.c.d', '::1', '::ffff:1.2.3.4', '1::'];
  for (const address of spellings) {
    const expected = isIPv4(address) || isIPv6(address);
    const write = () => writeAddress(new Uint8Array(16), 0, address);
    if (expected) t.notThrows(write, address);
    else t.throws(write, { code: 'gateway.bad_address' }, address);
  }
});

test('addresses survive xfrm_address_t in their canonical spelling', (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('::', '::1', '1::', '::ffff:192.0.2.1', '1:0:0:1:0:0:0:1', '2001:db8:0:0:1:0:0:1')), (address) => {
      const canonical = canonicalAddress(address)!;
      const bytes = new Uint8Array(16);
      writeAddress(bytes, 0, address);
      deepStrictEqual(readAddress(bytes, 0, isIPv6(address) ? 'ipv6' : 'ipv4'), canonical);
    }),
    { numRuns: 2000 },
  );
  t.pass();
});
