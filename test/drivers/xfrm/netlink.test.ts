import test from 'ava';
import { GatewayError } from '../../../lib/errors.js';
import { NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS } from '../../../lib/drivers/xfrm/constants.js';
import { encodeMessage, kernelRefused, parseAck, parseAttributes, splitMessages, u32Attribute } from '../../../lib/drivers/xfrm/netlink.js';

const le32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
};

test('a message is header, padded body and padded attributes, and splits back', (t) => {
  const body = new Uint8Array([1, 2, 3, 4, 5]);
  const message = encodeMessage({ type: 16, flags: 5, seq: 77, pid: 0 }, body, [
    { type: 3, data: new Uint8Array([9]) },
    u32Attribute(31, 0x42),
  ]);
  // 16 header + 8 body (5 padded) + 8 (4+1 padded) + 8 (4+4)
  t.is(message.byteLength, 40);
  t.is(Buffer.from(message).readUInt32LE(0), 40);
  const [parsed, ...rest] = splitMessages(Buffer.concat([message, message]));
  t.is(rest.length, 1);
  t.like(parsed, { type: 16, flags: 5, seq: 77, pid: 0 });
  const attributes = parseAttributes(parsed!.payload.subarray(8), 'test');
  t.deepEqual([...attributes.keys()], [3, 31]);
  t.deepEqual([...attributes.get(3)!], [9]);
  t.is(Buffer.from(attributes.get(31)!).readUInt32LE(0), 0x42);
});

test('truncated or inconsistent lengths are malformed, never read past the end', (t) => {
  const message = encodeMessage({ type: 16, flags: 0, seq: 1, pid: 0 }, new Uint8Array(8));
  const error = t.throws(() => splitMessages(message.subarray(0, 20)), { instanceOf: GatewayError });
  t.is(error.code, 'gateway.netlink_malformed');
  const badAttribute = new Uint8Array([0x40, 0, 1, 0, 0, 0, 0, 0]); // nla_len 64 in 8 bytes
  t.throws(() => parseAttributes(badAttribute, 'test'), { code: 'gateway.netlink_malformed' });
  const twice = Buffer.concat([Buffer.from(u32Attribute(1, 1).data), Buffer.alloc(0)]);
  const attr = (type: number) => Buffer.concat([Buffer.from([8, 0, type, 0]), twice]);
  t.throws(() => parseAttributes(Buffer.concat([attr(5), attr(5)]), 'test'), { message: /occurs twice/ });
});

/** An NLMSG_ERROR as a kernel with NETLINK_CAP_ACK and NETLINK_EXT_ACK sends it. */
function errorMessage(errno: number, requestSeq: number, text?: string, offset?: number): Uint8Array {
  const echoed = encodeMessage({ type: 16, flags: 5, seq: requestSeq, pid: 1234 }, new Uint8Array(0));
  const tlvs = [];
  if (text !== undefined) tlvs.push({ type: NLMSGERR_ATTR_MSG, data: Buffer.from(`${text}\0`) });
  if (offset !== undefined) tlvs.push({ type: NLMSGERR_ATTR_OFFS, data: le32(offset) });
  const flags = NLM_F_CAPPED | (tlvs.length > 0 ? NLM_F_ACK_TLVS : 0);
  return encodeMessage({ type: NLMSG_ERROR, flags, seq: requestSeq, pid: 1234 }, Buffer.concat([le32(-errno), echoed]), tlvs);
}

test('an ACK names the request by sequence number; errors carry the extended-ACK text', (t) => {
  const [ok] = splitMessages(errorMessage(0, 5));
  t.deepEqual(parseAck(ok!), { seq: 5, errno: 0 });
  const [refused] = splitMessages(errorMessage(22, 6, 'Invalid mode', 40));
  t.deepEqual(parseAck(refused!), { seq: 6, errno: 22, message: 'Invalid mode', offset: 40 });
  const error = kernelRefused('add SA x', parseAck(refused!));
  t.is(error.code, 'gateway.kernel_refused');
  t.is(error.exitCode, 6);
  t.is(error.message, 'the kernel refused to add SA x: Invalid mode [EINVAL]');
  t.is(kernelRefused('add SA y', { errno: 17 }).message, 'the kernel refused to add SA y: EEXIST (file already exists)');
});

test('an uncapped error echoes the whole request before the TLVs', (t) => {
  const request = encodeMessage({ type: 19, flags: 5, seq: 9, pid: 0 }, new Uint8Array(168));
  const tlv = [{ type: NLMSGERR_ATTR_MSG, data: Buffer.from('too big\0') }];
  const message = encodeMessage({ type: NLMSG_ERROR, flags: NLM_F_ACK_TLVS, seq: 9, pid: 0 }, Buffer.concat([le32(-7), request]), tlv);
  t.deepEqual(parseAck(splitMessages(message)[0]!), { seq: 9, errno: 7, message: 'too big' });
});

test('NLMSG_DONE parses as a plain message', (t) => {
  const [done] = splitMessages(encodeMessage({ type: NLMSG_DONE, flags: 2, seq: 3, pid: 9 }, le32(0)));
  t.like(done, { type: NLMSG_DONE, seq: 3 });
});
