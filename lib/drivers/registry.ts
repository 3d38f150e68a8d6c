/**
 * Gateway URIs: `scheme:rest[?query]`. Drivers load on demand, so a driver whose native
 * parts did not build never stops `inspect` or the file gateway from working.
 */
import { UsageError } from '../errors.js';
import type { Driver, DriverEnvironment } from './driver.js';

type DriverLoader = (rest: string, env: DriverEnvironment) => Promise<Driver>;

const DRIVERS: Readonly<Record<string, { loader: DriverLoader; example: string }>> = {
  file: {
    loader: async (rest, env) => (await import('./file/file-driver.js')).openFileGateway(rest, env),
    example: 'file:/var/lib/gw/state.json',
  },
  xfrm: {
    loader: async (rest, env) => (await import('./xfrm/xfrm-driver.js')).openXfrmGateway(rest, env),
    example: 'xfrm:?netns=gw',
  },
  strongswan: {
    loader: async (rest, env) => (await import('./strongswan/strongswan-driver.js')).openStrongswanGateway(rest, env),
    example: 'strongswan:127.0.0.1?bind=127.0.0.2&vici=/var/run/charon.vici',
  },
};

export const DRIVER_SCHEMES = Object.keys(DRIVERS);

/** @throws UsageError `usage.bad_uri` or `usage.unknown_driver` */
export async function openDriver(uri: string, env: DriverEnvironment): Promise<Driver> {
  const colon = uri.indexOf(':');
  if (colon <= 0) {
    throw new UsageError('usage.bad_uri', `not a gateway URI: ${JSON.stringify(uri)}`, {
      hint: `write scheme:target, e.g. ${DRIVERS['file']?.example}`,
    });
  }
  const scheme = uri.slice(0, colon);
  const driver = DRIVERS[scheme];
  if (!driver) {
    throw new UsageError('usage.unknown_driver', `no driver for ${JSON.stringify(`${scheme}:`)}`, {
      hint: `known drivers: ${DRIVER_SCHEMES.map((s) => `${s}:`).join(', ')}`,
    });
  }
  return driver.loader(uri.slice(colon + 1), env);
}
