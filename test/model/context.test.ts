import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SchemaError } from '../../lib/errors.js';
import { Context } from '../../lib/model/context.js';
import { parseContext } from '../../lib/model/validate.js';
import { FIXTURES, GATEWAY_FIXTURES, fixtureContext } from '../helpers/workspace.js';

const json = (name: string) => JSON.parse(readFileSync(join(FIXTURES, 'gateways', name), 'utf8')) as Record<string, any>;

/** Applies `mutate` to a copy of the site-to-site fixture's JSON form and returns the SchemaError. */
function violation(t: import('ava').ExecutionContext, mutate: (ctx: Record<string, any>) => void): SchemaError {
  const ctx = json('site-to-site.json');
  mutate(ctx);
  return t.throws(() => parseContext(ctx), { instanceOf: SchemaError, code: 'schema.invalid' }) as SchemaError;
}

for (const name of GATEWAY_FIXTURES) {
  test(`fixture ${name} is a valid context whose JSON form round-trips exactly`, (t) => {
    const context = fixtureContext(name);
    t.deepEqual(Context.encode(context), json(name));
  });
}

test('the fixtures cover every protocol, mode, family, ESN, NAT-T, marks and if_id', (t) => {
  const all = GATEWAY_FIXTURES.map(fixtureContext);
  const children = all.flatMap((c) => c.childSas);
  t.deepEqual([...new Set(children.map((c) => c.protocol))].sort(), ['ah', 'esp', 'ipcomp']);
  t.true(children.some((c) => c.mode === 'transport') && children.some((c) => c.mode === 'tunnel'));
  t.deepEqual([...new Set(children.map((c) => c.family))].sort(), ['ipv4', 'ipv6']);
  t.true(children.some((c) => c.sequence.esn && c.sequence.outbound > 2n ** 32n));
  t.true(children.some((c) => c.encapsulation !== undefined));
  t.true(children.some((c) => c.mark !== undefined) && children.some((c) => c.ifId !== undefined));
  t.true(children.some((c) => c.crypto.kind === 'aead') && children.some((c) => c.crypto.kind === 'cipher'));
  t.true(children.some((c) => c.ikeSaId === undefined));
});

test('a key of the wrong length for its algorithm is rejected with its field path', (t) => {
  const error = violation(t, (ctx) => {
    ctx.childSas[0].crypto.key = ctx.childSas[0].crypto.key.slice(0, -2);
  });
  t.is(error.issues[0]?.path, 'childSas[0].crypto.key');
  t.regex(error.message, /AES_GCM_16-256 takes 36 key bytes \(salt included\), got 35/);
});

test('an IKE SK_e of the wrong length is rejected', (t) => {
  const error = violation(t, (ctx) => {
    ctx.ikeSas[0].keys.skEi = '00'.repeat(16);
  });
  t.is(error.issues[0]?.path, 'ikeSas[0].keys.skEi');
});

test('SPI 0 is rejected for CHILD and IKE SAs', (t) => {
  t.is(violation(t, (ctx) => void (ctx.childSas[1].spi = '00000000')).issues[0]?.path, 'childSas[1].spi');
  t.is(violation(t, (ctx) => void (ctx.ikeSas[0].spiResponder = '0000000000000000')).issues[0]?.path, 'ikeSas[0].spiResponder');
});

test('a selector prefix longer than its family allows is rejected', (t) => {
  const error = violation(t, (ctx) => {
    ctx.policies[0].selector.source = '10.1.0.0/33';
  });
  t.is(error.issues[0]?.path, 'policies[0].selector.source');
  t.regex(error.message, /longer than 32 bits/);
});

test('an IPv6 prefix in an IPv4 selector is rejected', (t) => {
  const error = violation(t, (ctx) => {
    ctx.policies[0].selector.destination = '2001:db8::/32';
  });
  t.regex(error.message, /ipv6 prefix in an ipv4 selector/);
});

test('orphan references are rejected both ways', (t) => {
  const dangling = violation(t, (ctx) => {
    ctx.childSas[0].ikeSaId = 'no-such-ike';
  });
  t.is(dangling.issues[0]?.path, 'childSas[0].ikeSaId');
  const missing = violation(t, (ctx) => {
    ctx.ikeSas[0].childSaIds.push('ghost');
  });
  t.regex(missing.message, /no CHILD SA with id ghost/);
});

test('a non-canonical address names its canonical spelling', (t) => {
  const error = violation(t, (ctx) => {
    ctx.ikeSas[0].remote.address = '198.51.100.077';
  });
  t.is(error.issues[0]?.path, 'ikeSas[0].remote.address');
  const v6 = json('ipv6-esn.json');
  v6.childSas[0].source = v6.childSas[0].source.toUpperCase().replace('::', ':0:0::');
  t.throws(() => parseContext(v6), { message: /write .* as 2001:db8:/ });
});

test('a 32-bit counter beyond 2^32 without ESN is rejected', (t) => {
  const error = violation(t, (ctx) => {
    const out = ctx.childSas.find((c: any) => c.direction === 'out');
    out.sequence.outbound = 2 ** 32;
  });
  t.regex(error.message, /exceeds 32 bits without ESN/);
});

test('a replay bitmap that does not match its window size is rejected', (t) => {
  const error = violation(t, (ctx) => {
    ctx.childSas[0].sequence.bitmap = '00';
  });
  t.regex(error.message, /bitmap bytes/);
});

test('unknown fields and unknown versions are rejected', (t) => {
  t.regex(violation(t, (ctx) => void (ctx.childSas[0].colour = 'blue')).message, /colour/);
  t.is(violation(t, (ctx) => void (ctx.version = 2)).issues[0]?.path, 'version');
});

test('the wrong key kind for a protocol is rejected', (t) => {
  const error = violation(t, (ctx) => {
    ctx.childSas[0].protocol = 'ah';
  });
  t.regex(error.message, /ah takes integrity keys, not aead/);
});

test('64-bit counters beyond 2^53 travel as decimal strings in JSON', (t) => {
  const ctx = json('ipv6-esn.json');
  const out = ctx.childSas.find((c: any) => c.direction === 'out' && c.sequence.esn);
  out.sequence.outbound = '18446744073709551615';
  const parsed = parseContext(ctx);
  const restored = parsed.childSas.find((c) => c.id === out.id);
  t.is(restored?.sequence.outbound, 2n ** 64n - 1n);
  t.is((Context.encode(parsed).childSas.find((c) => c.id === out.id)?.sequence.outbound as unknown), '18446744073709551615');
});

test('repeated ids are rejected at the second one', (t) => {
  t.is(violation(t, (ctx) => void (ctx.policies[2].id = ctx.policies[0].id)).issues[0]?.path, 'policies[2].id');
  const child = violation(t, (ctx) => void ctx.childSas.push({ ...ctx.childSas[0], spi: '0badcafe' }));
  t.deepEqual(child.issues.map((issue) => issue.path), ['childSas[6].id']);
  const ike = violation(t, (ctx) => void ctx.ikeSas.push({ ...ctx.ikeSas[0], spiInitiator: '0102030405060708', childSaIds: [] }));
  t.is(ike.issues[0]?.path, 'ikeSas[1].id');
});

test('two CHILD SAs with the same protocol, destination and SPI are rejected; any difference is fine', (t) => {
  const copy = (ctx: Record<string, any>, changes: Record<string, unknown>) => {
    const sa = { ...ctx.childSas[0], id: `child:copy:${ctx.childSas.length}`, ...changes };
    ctx.childSas.push(sa);
    ctx.ikeSas[0].childSaIds.push(sa.id);
  };
  const error = violation(t, (ctx) => copy(ctx, {}));
  t.deepEqual(error.issues.map((issue) => [issue.path, issue.message]), [['childSas[6].spi', 'a second esp SA to 203.0.113.1 with this SPI']]);
  const ctx = json('site-to-site.json');
  copy(ctx, { destination: '203.0.113.2' });
  copy(ctx, { spi: 'cc3ecfa3' });
  copy(ctx, { protocol: 'ah', crypto: { kind: 'integrity', integrity: ctx.childSas[1].crypto.integrity ?? { algorithm: 'HMAC_SHA2_256_128', truncBits: 128, key: '11'.repeat(32) } } });
  t.notThrows(() => parseContext(ctx));
});

test('IPComp SAs sharing 16-bit CPIs: only a genuine repeat is rejected', (t) => {
  const ctx = json('site-to-site.json');
  const ipcomp = (i: number, destination: string) => {
    const sa = { ...ctx.childSas[0], id: `ipcomp:${i}`, protocol: 'ipcomp', spi: '00004001', destination, crypto: { kind: 'compression', algorithm: 'DEFLATE' } };
    sa.sequence = { ...sa.sequence, windowSize: 0, bitmap: '' };
    delete sa.encapsulation;
    ctx.childSas.push(sa);
    ctx.ikeSas[0].childSaIds.push(sa.id);
  };
  for (let i = 0; i < 40; i++) ipcomp(i, `203.0.113.${10 + i}`);
  t.notThrows(() => parseContext(ctx));
  ipcomp(40, '203.0.113.30');
  const error = t.throws(() => parseContext(ctx), { instanceOf: SchemaError }) as SchemaError;
  t.deepEqual(error.issues.map((issue) => [issue.path, issue.message]), [['childSas[46].spi', 'a second ipcomp SA to 203.0.113.30 with this SPI']]);
});

test('links resolve both ways for an IKE SA with many CHILD SAs', (t) => {
  const ctx = json('site-to-site.json');
  for (let i = 0; i < 40; i++) {
    const sa = { ...ctx.childSas[0], id: `child:many:${i}`, spi: (0x10000 + i).toString(16).padStart(8, '0') };
    ctx.childSas.push(sa);
    ctx.ikeSas[0].childSaIds.push(sa.id);
  }
  t.notThrows(() => parseContext(ctx));
  ctx.ikeSas[0].childSaIds.splice(ctx.ikeSas[0].childSaIds.indexOf('child:many:17'), 1);
  const error = t.throws(() => parseContext(ctx), { instanceOf: SchemaError }) as SchemaError;
  t.deepEqual(error.issues.map((issue) => [issue.path, issue.message]), [['childSas[23].ikeSaId', 'IKE SA ike:14 does not list this CHILD SA in childSaIds']]);
});

test('an IPv6 address with a zone is rejected as not an address', (t) => {
  const error = violation(t, (ctx) => {
    ctx.ikeSas[0].remote.address = 'fe80::1%eth0';
  });
  t.deepEqual(error.issues[0], { path: 'ikeSas[0].remote.address', message: 'not an IP address: "fe80::1%eth0"' });
});
