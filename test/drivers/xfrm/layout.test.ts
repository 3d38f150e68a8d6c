import test from 'ava';
import { addonPath, loadAddon } from '../../../lib/drivers/xfrm/addon.js';
import { LAYOUT } from '../../../lib/drivers/xfrm/layout.js';

// The addon is built at install time on Linux; elsewhere the xfrm driver is unavailable.
const linux = process.platform === 'linux';

test('the addon is built on Linux', (t) => {
  if (!linux) return t.pass();
  t.truthy(addonPath(), 'native/build/Release/xfrm_netlink.node is missing: run `npm rebuild` (node-gyp)');
});

test('every struct size and field offset matches the C compiler (offsetof/sizeof in the addon)', (t) => {
  if (!linux) return t.pass();
  const native = loadAddon().layout();
  t.deepEqual(Object.keys(native).sort(), Object.keys(LAYOUT).sort(), 'the same structs on both sides');
  let fields = 0;
  for (const [name, layout] of Object.entries(LAYOUT)) {
    const c = native[name]!;
    t.is(c.size, layout.size as number, `sizeof(struct ${name})`);
    t.deepEqual(c.offsets, layout.offsets as Record<string, number>, `offsetof(struct ${name}, ...)`);
    fields += Object.keys(c.offsets).length;
  }
  t.log(`${Object.keys(LAYOUT).length} structs, ${fields} fields`);
});

test('the addon refuses bad arguments with TypeErrors and reports errno names', (t) => {
  if (!linux) return t.pass();
  const addon = loadAddon();
  t.throws(() => addon.send(-1, new Uint8Array(0)), { instanceOf: TypeError });
  t.throws(() => addon.open({ netns: 42 as unknown as string }), { instanceOf: TypeError });
  t.throws(() => addon.open({ netns: '../escape' }), { code: 'EINVAL' });
  t.throws(() => addon.open({ netns: 'ipsec-ctx-no-such-netns' }), { code: 'ENOENT' });
  t.throws(() => addon.recv(123456, false), { code: 'EBADF' });
});

test('a socket opens, has a port id, and close() releases it', (t) => {
  if (!linux) return t.pass();
  const addon = loadAddon();
  const fd = addon.open({ timeoutMs: 1000 });
  t.true(addon.portId(fd) > 0);
  t.is(addon.recv(fd, false), null, 'nothing queued');
  addon.close(fd);
  t.throws(() => addon.portId(fd), { code: 'EBADF' });
});
