/**
 * The shortcuts the dump parsers take for speed (docs/xfrm.md, Performance) give the same
 * values as the plain way: dotted quads spelled in a scratch buffer, u64 lifetime fields of 0
 * and XFRM_INF returned as shared constants, structs read through one view of the datagram.
 */
import test from 'ava';
import { readAddress, readPrefix } from '../../../lib/drivers/xfrm/address.js';
import { XFRM_INF } from '../../../lib/drivers/xfrm/constants.js';
import { LAYOUT } from '../../../lib/drivers/xfrm/layout.js';
import { parseLifetimeCfg, parseLifetimeCur } from '../../../lib/drivers/xfrm/lifetime.js';
import { LITTLE_ENDIAN, parseAttributes } from '../../../lib/drivers/xfrm/netlink.js';
import { parseSelector } from '../../../lib/drivers/xfrm/selector.js';

test('every octet and prefix length is spelled as a template literal spells it', (t) => {
  const bytes = new Uint8Array(16);
  for (let octet = 0; octet < 256; octet++) {
    bytes.set([octet, 255 - octet, (octet * 37) & 255, octet >> 1]);
    const plain = `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
    t.is(readAddress(bytes, 0, 'ipv4'), plain);
    t.is(readPrefix(bytes, 0, 'ipv4', octet), `${plain}/${octet}`);
  }
  const loopback = new Uint8Array(16);
  loopback[15] = 1;
  t.is(readPrefix(loopback, 0, 'ipv6', 128), '::1/128');
});

test('lifetime fields read the same whether or not they are 0 or XFRM_INF', (t) => {
  const values = [0n, XFRM_INF, 1n, 0xffff_ffffn, 0xffff_ffff_0000_0000n, 2n ** 32n, XFRM_INF - 1n, 3600n];
  // At an odd place in a larger buffer, as a struct inside a datagram is.
  const buffer = new Uint8Array(8 + 8 * values.length);
  const bytes = buffer.subarray(8);
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  values.forEach((value, i) => dv.setBigUint64(8 * i, value, LITTLE_ENDIAN));
  const cfg = parseLifetimeCfg(bytes);
  t.deepEqual(Object.values(cfg), values);
  const cur = parseLifetimeCur(bytes, 32);
  t.deepEqual(Object.values(cur), values.slice(4));
});

test('a selector and the attributes after a struct are read at their own offsets in the datagram', (t) => {
  const SEL = LAYOUT.xfrm_selector;
  const datagram = new Uint8Array(12 + SEL.size + 8);
  const selector = datagram.subarray(12);
  const dv = new DataView(selector.buffer, selector.byteOffset);
  selector.set([192, 0, 2, 1], SEL.offsets.daddr);
  dv.setUint16(SEL.offsets.dport, 443, false);
  dv.setUint16(SEL.offsets.family, 2, LITTLE_ENDIAN);
  selector[SEL.offsets.prefixlen_d] = 32;
  dv.setInt32(SEL.offsets.ifindex, -1, LITTLE_ENDIAN);
  // One u32 attribute (type 31) after the struct.
  dv.setUint16(SEL.size, 8, LITTLE_ENDIAN);
  dv.setUint16(SEL.size + 2, 31, LITTLE_ENDIAN);
  dv.setUint32(SEL.size + 4, 7, LITTLE_ENDIAN);

  const sel = parseSelector(selector);
  t.deepEqual([...sel.daddr.subarray(0, 4)], [192, 0, 2, 1]);
  t.like(sel, { dport: 443, family: 2, prefixlenD: 32, ifindex: -1 });
  const attributes = parseAttributes(selector, 'test', SEL.size);
  t.deepEqual([...attributes.keys()], [31]);
  t.is(new DataView(attributes.get(31)!.buffer, attributes.get(31)!.byteOffset).getUint32(0, LITTLE_ENDIAN), 7);
  t.throws(() => parseAttributes(selector.subarray(0, SEL.size + 6), 'test', SEL.size), { code: 'gateway.netlink_malformed' });
});
