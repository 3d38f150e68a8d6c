import test from 'ava';
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayError, SchemaError } from '../../lib/errors.js';
import { openDriver } from '../../lib/drivers/registry.js';
import { filterContext } from '../../lib/model/filter.js';
import { FIXTURES, fixtureContext, workspace } from '../helpers/workspace.js';

const site = fixtureContext('site-to-site.json');
const HOUR = 3_600_000;

test('reading a gateway file resumes its clock: ages and remaining lifetimes are kept', async (t) => {
  const ws = workspace(t);
  copyFileSync(join(FIXTURES, 'gateways', 'site-to-site.json'), ws.path('gw.json'));
  const later = site.provenance.capturedAtMs + 5 * HOUR;
  const driver = await openDriver('file:gw.json', { nowMs: () => later, cwd: ws.dir });
  const read = await driver.read();
  t.is(read.provenance.capturedAtMs, later);
  t.is(read.provenance.driver, 'file');
  const shift = Math.floor(later / 1000) - Math.floor(site.provenance.capturedAtMs / 1000);
  read.childSas.forEach((child, i) => t.is(child.lifetime.used.addTime, (site.childSas[i]?.lifetime.used.addTime ?? 0) + shift));
  t.is(read.ikeSas[0]?.times.established, (site.ikeSas[0]?.times.established ?? 0) + shift);
});

test('put into a path that does not exist creates the gateway there, mode 0600', async (t) => {
  const ws = workspace(t);
  const driver = await openDriver('file:new/../gw-b.json', { nowMs: () => site.provenance.capturedAtMs, cwd: ws.dir });
  const report = await driver.apply(site, { replace: false, dryRun: false });
  t.true(report.applied);
  t.is(statSync(ws.path('gw-b.json')).mode & 0o777, 0o600);
  const read = await driver.read();
  t.deepEqual({ ...read, provenance: site.provenance }, site);
  t.is(read.provenance.source, 'gw-b');
});

test('a dry run changes nothing, not even creating the file', async (t) => {
  const ws = workspace(t);
  const driver = await openDriver('file:gw-b.json', { nowMs: () => 0, cwd: ws.dir });
  const report = await driver.apply(site, { replace: false, dryRun: true });
  t.false(report.applied);
  t.true(report.changes.length > 0);
  t.false(existsSync(ws.path('gw-b.json')));
});

test('a conflict is reported before anything is written, and the file stays byte for byte', async (t) => {
  const ws = workspace(t);
  copyFileSync(join(FIXTURES, 'gateways', 'site-to-site.json'), ws.path('gw.json'));
  const before = readFileSync(ws.path('gw.json'));
  const driver = await openDriver('file:gw.json', { nowMs: () => site.provenance.capturedAtMs, cwd: ws.dir });
  const first = site.childSas[0];
  if (!first || first.crypto.kind !== 'aead') throw new Error('fixture changed');
  const rekeyed = { ...site, childSas: [{ ...first, crypto: { ...first.crypto, key: first.crypto.key.map((b) => b ^ 0xff) } }, ...site.childSas.slice(1)] };
  await t.throwsAsync(driver.apply(rekeyed, { replace: false, dryRun: false }), { instanceOf: GatewayError, code: 'gateway.conflict', message: /nothing was changed/ });
  t.deepEqual(readFileSync(ws.path('gw.json')), before);
  t.false(existsSync(ws.path('gw.json.lock')));
  await driver.apply(rekeyed, { replace: true, dryRun: false });
  t.notDeepEqual(readFileSync(ws.path('gw.json')), before);
});

test('a second ipsec-ctx finds the gateway locked instead of losing an update', async (t) => {
  const ws = workspace(t);
  writeFileSync(ws.path('gw.json.lock'), '1\n');
  const driver = await openDriver('file:gw.json', { nowMs: () => 0, cwd: ws.dir });
  await t.throwsAsync(driver.apply(site, { replace: false, dryRun: false }), { instanceOf: GatewayError, code: 'gateway.busy' });
});

test('take removes exactly what was delivered, and nothing when delivery fails', async (t) => {
  const ws = workspace(t);
  copyFileSync(join(FIXTURES, 'gateways', 'road-warrior.json'), ws.path('gw.json'));
  const road = fixtureContext('road-warrior.json');
  const driver = await openDriver('file:gw.json', { nowMs: () => road.provenance.capturedAtMs, cwd: ws.dir });
  const connection = road.ikeSas[0]?.connection ?? '';
  const select = (c: typeof road) => filterContext(c, { connections: [connection] });
  const before = readFileSync(ws.path('gw.json'));
  await t.throwsAsync(driver.take(select, async () => Promise.reject(new Error('disk full'))), { message: 'disk full' });
  t.deepEqual(readFileSync(ws.path('gw.json')), before);

  let delivered = 0;
  const { taken, removed } = await driver.take(select, async (c) => void (delivered = c.childSas.length));
  t.is(delivered, taken.childSas.length);
  t.is(removed.length, taken.ikeSas.length + taken.childSas.length + taken.policies.length);
  const after = await driver.read();
  t.is(after.ikeSas.length, road.ikeSas.length - taken.ikeSas.length);
  t.false(after.childSas.some((c) => taken.childSas.some((x) => x.id === c.id)));
});

test('an invalid gateway file is reported with the file and field path', async (t) => {
  const ws = workspace(t);
  const json = JSON.parse(readFileSync(join(FIXTURES, 'gateways', 'site-to-site.json'), 'utf8'));
  json.childSas[2].spi = '00000000';
  writeFileSync(ws.path('gw.json'), JSON.stringify(json));
  const driver = await openDriver('file:gw.json', { nowMs: () => 0, cwd: ws.dir });
  await t.throwsAsync(driver.read(), { instanceOf: SchemaError, message: /file:gw.json: childSas\[2\]\.spi/ });
});

test('unknown schemes and malformed URIs are usage errors', async (t) => {
  await t.throwsAsync(openDriver('ftp:x', { nowMs: () => 0, cwd: '/' }), { code: 'usage.unknown_driver', message: /no driver for "ftp:"/ });
  await t.throwsAsync(openDriver('gw.json', { nowMs: () => 0, cwd: '/' }), { code: 'usage.bad_uri' });
});
