import test from 'ava';
import fc from 'fast-check';
import { isIPv4 } from 'node:net';
import { canonicalAddress, familyOf, parsePrefix } from '../../lib/model/address.js';

/** Text that looks like a dotted quad, or nearly: 3 to 5 parts of 0 to 4 digits. */
const dottedText = fc
  .array(fc.stringMatching(/^[0-9]{0,4}$/), { minLength: 3, maxLength: 5 })
  .map((parts) => parts.join('.'));

test('dotted quads: an IPv4 address exactly when node says so, and then its own canonical spelling', (t) => {
  fc.assert(
    fc.property(fc.oneof(dottedText, fc.string({ unit: fc.constantFrom(...'0123456789.:/ a') })), (text) => {
      t.is(familyOf(text) === 'ipv4', isIPv4(text), text);
      if (isIPv4(text)) t.is(canonicalAddress(text), text);
    }),
    { numRuns: 2000 },
  );
});

test('an IPv6 address with a zone is not an address (and does not throw)', (t) => {
  t.is(canonicalAddress('fe80::1%eth0'), undefined);
  t.is(familyOf('fe80::1%eth0'), undefined);
  t.is(parsePrefix('fe80::1%eth0/64'), undefined);
});
