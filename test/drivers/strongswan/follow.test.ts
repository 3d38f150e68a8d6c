/**
 * `ipsec-ctx follow` in-process, without a daemon: a fake gateway (a vici socket, and an HA
 * socket on 127.46.N.1:4510 replaying a captured charon's datagrams to 127.46.N.2:4510). The
 * snapshot file follows every change with the keys the tracker derives, is mode 0600, the
 * follower sends the gateway nothing (one RESYNC with --resync), drops datagrams from
 * elsewhere, and stops cleanly when its AbortSignal fires. The real-charon test is
 * follow-lab.test.ts.
 */
import test from 'ava';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Io } from '../../../lib/cli/io.js';
import { manualInterrupts } from '../../../lib/util/interruption.js';
import { main } from '../../../lib/cli/main.js';
import { readIdentityFile } from '../../../lib/crypto/key-files.js';
import { encodePublicKey } from '../../../lib/crypto/key-text.js';
import { seededRandom } from '../../../lib/crypto/random.js';
import { decodeMessage } from '../../../lib/drivers/strongswan/codec.js';
import { HaTracker } from '../../../lib/drivers/strongswan/tracker.js';
import { openBlob } from '../../../lib/format/envelope.js';
import type { Context } from '../../../lib/model/context.js';
import { fakeVici } from './fake-charon.js';
import { SCENARIOS } from './scenarios.js';

const hex = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('hex'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let fakes = 0;

async function setup(t: { teardown: (f: () => void | Promise<void>) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'ipsec-ctx-follow-'));
  const vici = join(dir, 'charon.vici');
  const server = await fakeVici(vici, '5.9.8', { rw: ['net'] });
  const n = ++fakes;
  const [gateway, bind, stranger] = [`127.46.${n}.1`, `127.46.${n}.2`, `127.46.${n}.3`];
  const ha = createSocket('udp4');
  const received: Buffer[] = [];
  ha.on('message', (m) => received.push(m));
  await new Promise<void>((resolve, reject) => {
    ha.once('error', reject);
    ha.bind(4510, gateway, resolve);
  });
  const other = createSocket('udp4');
  await new Promise<void>((resolve) => other.bind(4510, stranger, resolve));
  t.teardown(async () => {
    ha.close();
    other.close();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });
  const send = (bytes: Uint8Array, from = ha) => new Promise<void>((resolve, reject) => from.send(bytes, 4510, bind, (e) => (e ? reject(e) : resolve())));

  let stderr = '';
  const io = (interrupt = new AbortController()): Io => ({
    stdin: Object.assign((async function* () {})(), { isTTY: false }),
    stdout: { write: () => true, isTTY: false },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    env: { HOME: dir },
    cwd: dir,
    nowMs: Date.now,
    random: seededRandom(`follow ${n}`),
    catchInterrupts: manualInterrupts(interrupt),
  });
  await main(['keygen', '-o', join(dir, 'a.key')], io());
  const identity = readIdentityFile(join(dir, 'a.key'));
  const open = (): Context => {
    const blob = new Uint8Array(readFileSync(join(dir, 'snap.blob')));
    return openBlob(blob, { identities: [identity], trust: { signers: [identity.publicKey] }, nowMs: Date.now() }).context;
  };
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const uri = `strongswan:${gateway}?bind=${bind}&vici=${vici}`;
  const start = (extra: string[] = []) =>
    main(['follow', '--from', uri, '-i', join(dir, 'a.key'), '-r', encodePublicKey(identity.publicKey), '-o', 'snap.blob', '--every', '50ms', ...extra], io(controller));
  return { dir, send, other, received, open, controller, start, stderr: () => stderr };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('strongswan: follow keeps a sealed snapshot current as the gateway syncs, sends it nothing, and stops on its signal', async (t) => {
  const f = await setup(t);
  const datagrams = SCENARIOS.find((s) => s.name === 'gcm-x25519')!.datagrams.map((d) => d.bytes);
  const types = datagrams.map((bytes) => decodeMessage(bytes).type);
  const running = f.start();
  await until(() => existsSync(join(f.dir, 'snap.blob')), 'the first (empty) snapshot');
  t.is(statSync(join(f.dir, 'snap.blob')).mode & 0o777, 0o600);
  t.deepEqual(f.open().ikeSas, []);

  // Replay the capture in three parts, checking the snapshot against a tracker fed the same.
  const reference = new HaTracker();
  const firstChild = types.indexOf('childAdd') + 2; // ... CHILD_ADD, IKE_UPDATE (VIP)
  const afterIkeRekey = types.lastIndexOf('childAdd') + 2;
  const beforeDelete = types.lastIndexOf('ikeDelete') - 1;
  let sent = 0;
  for (const end of [firstChild, afterIkeRekey, beforeDelete]) {
    for (; sent < end; sent++) {
      await f.send(datagrams[sent]!);
      reference.apply(decodeMessage(datagrams[sent]!));
    }
    const expectIke = [...reference.ikeSas.values()].filter((sa) => sa.updatedAtMs !== undefined);
    const expectChildren = expectIke.flatMap((sa) => [...sa.children.values()]);
    const spis = (c: Context) => c.childSas.filter((x) => x.direction === 'in').map((x) => hex(x.spi)).sort();
    await until(() => {
      const c = f.open();
      return c.ikeSas.length === expectIke.length && spis(c).join() === expectChildren.map((x) => hex(x.inboundSpi)).sort().join();
    }, `snapshot after ${end} datagrams`);
    const c = f.open();
    t.is(hex(c.ikeSas[0]?.keys.skD), hex(expectIke[0]?.keys.skD));
    t.is(hex(c.ikeSas[0]?.keys.skEr), hex(expectIke[0]?.keys.skEr));
    const inbound = c.childSas.find((x) => x.direction === 'in' && hex(x.spi) === hex(expectChildren[0]?.inboundSpi));
    t.is(inbound?.crypto.kind === 'aead' ? hex(inbound.crypto.key) : undefined, hex(expectChildren[0]?.initiator ? expectChildren[0]?.keys.encrR : expectChildren[0]?.keys.encrI));
    t.deepEqual(c.ikeSas[0]?.messageIds.nextExpected, expectIke[0]?.midResponder);
  }
  // A datagram from anyone but the gateway's HA socket is dropped.
  await f.send(datagrams[types.indexOf('ikeDelete')]!, f.other);
  await sleep(150);
  t.is(f.open().ikeSas.length, 1);

  f.controller.abort();
  t.is(await running, 0, f.stderr());
  t.regex(f.stderr(), /following strongswan:127\.46\.\d+\.1\?.* as its passive HA standby \(HA version 3, charon 5\.9\.8\): nothing is sent to the gateway/);
  t.regex(f.stderr(), /snapshot \d+: 1 IKE SA\(s\), 1 CHILD SA pair\(s\)/);
  t.regex(f.stderr(), /stopped following .*: wrote \d+ snapshot\(s\) to snap\.blob from \d+ HA datagram\(s\), dropped 1 from elsewhere/);
  t.is(f.received.length, 0, 'the gateway received nothing');
  t.is(statSync(join(f.dir, 'snap.blob')).mode & 0o777, 0o600);
});

test('strongswan: follow --resync sends one RESYNC; other URIs and stdout are refused', async (t) => {
  const f = await setup(t);
  const running = f.start(['--resync']);
  await until(() => f.received.length > 0, 'RESYNC');
  await sleep(100);
  f.controller.abort();
  t.is(await running, 0, f.stderr());
  t.is(f.received.length, 1);
  t.is(decodeMessage(new Uint8Array(f.received[0]!)).type, 'resync');
  t.regex(f.stderr(), /sent RESYNC/);

  let stderr = '';
  const io: Io = {
    stdin: Object.assign((async function* () {})(), { isTTY: false }),
    stdout: { write: () => true },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    env: {},
    cwd: f.dir,
    nowMs: Date.now,
    random: seededRandom('x'),
    catchInterrupts: manualInterrupts(new AbortController()),
  };
  const pub = encodePublicKey(readIdentityFile(join(f.dir, 'a.key')).publicKey);
  t.is(await main(['follow', '--from', 'file:gw.json', '-i', join(f.dir, 'a.key'), '-r', pub, '-o', 'x'], io), 2);
  t.regex(stderr, /follow needs a strongswan: gateway/);
  t.is(await main(['follow', '--from', 'strongswan:127.0.0.1?bind=127.0.0.2', '-i', join(f.dir, 'a.key'), '-r', pub, '-o', '-'], io), 2);
  t.regex(stderr, /cannot write to stdout/);
});
