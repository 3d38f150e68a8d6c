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
