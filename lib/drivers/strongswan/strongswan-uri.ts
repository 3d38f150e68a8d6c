/**
 * `strongswan:` gateway URIs (docs/strongswan.md §7):
 *
 *   strongswan:HA_ADDRESS?bind=LOCAL_ADDRESS[&vici=PATH][&counters=xfrm[:NETNS]][&settle=MS][&timeout=MS]
 *
 * - HA_ADDRESS: the charon's own HA address (its `charon.plugins.ha.local`); ipsec-ctx sends
 *   to it and accepts datagrams only from it, port 4510. IPv6 may be written in brackets.
 * - bind (required): the local address ipsec-ctx binds, port 4510: the charon's
 *   `charon.plugins.ha.remote`. Nothing is bound anywhere else.
 * - vici: charon's vici socket (default /var/run/charon.vici), for its release, connection
 *   names, authentication classes and SAs.
 * - counters: where the CHILD SAs' sequence numbers, replay windows and usage come from and go
 *   to. `none` (default): nowhere, HA does not carry them (kernel-libipsec, or a kernel
 *   ipsec-ctx cannot reach). `xfrm`: the kernel of ipsec-ctx's own network namespace, where a
 *   charon with kernel-netlink installs them; `xfrm:NETNS`: that of a named one.
 * - settle: how long the HA channel must stay quiet before `get` takes its snapshot (default
 *   1000 ms); timeout: how long `get` and `put` wait for charon at most (default 30000 ms).
 */
import { isIP } from 'node:net';
import { UsageError } from '../../errors.js';
import type { KernelCounters } from './kernel-counters.js';

export interface StrongswanTarget {
  uri: string;
  gateway: string;
  bind: string;
  vici: string;
  settleMs: number;
  timeoutMs: number;
  /** Where the CHILD SAs' live counters are read and set; absent: nowhere. */
  counters?: KernelCounters;
}

export const DEFAULT_VICI = '/var/run/charon.vici';

const unbracket = (text: string) => (text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text);

/** @throws UsageError `usage.bad_uri` */
export function parseStrongswanUri(rest: string): StrongswanTarget {
  const uri = `strongswan:${rest}`;
  const bad = (why: string) =>
    new UsageError('usage.bad_uri', `bad strongswan: URI ${JSON.stringify(uri)}: ${why}`, {
      hint: "write strongswan:HA_ADDRESS?bind=LOCAL_ADDRESS (the charon's ha.local and ha.remote), e.g. strongswan:127.0.0.1?bind=127.0.0.2&vici=/var/run/charon.vici",
    });
  const q = rest.indexOf('?');
  const gateway = unbracket(q < 0 ? rest : rest.slice(0, q));
  if (isIP(gateway) === 0) throw bad("the part after the colon must be the charon's HA address (charon.plugins.ha.local)");
  const params = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1));
  for (const key of params.keys()) if (!['bind', 'vici', 'counters', 'settle', 'timeout'].includes(key)) throw bad(`unknown parameter ${key}`);
  const bind = unbracket(params.get('bind') ?? '');
  if (isIP(bind) === 0) throw bad('bind=ADDRESS is required: the local address to listen on, the charon\'s charon.plugins.ha.remote');
  if (isIP(bind) !== isIP(gateway)) throw bad('bind and the HA address must be of the same address family');
  const vici = params.get('vici') ?? DEFAULT_VICI;
  if (!vici.startsWith('/')) throw bad('vici wants an absolute path to charon\'s vici socket');
  const ms = (key: string, fallback: number) => {
    const text = params.get(key);
    if (text === null) return fallback;
    if (!/^\d{1,7}$/.test(text)) throw bad(`${key} wants milliseconds`);
    return Number(text);
  };
  const target: StrongswanTarget = { uri, gateway, bind, vici, settleMs: ms('settle', 1000), timeoutMs: ms('timeout', 30_000) };
  const counters = params.get('counters') ?? 'none';
  if (counters === 'xfrm') target.counters = {};
  else if (counters.startsWith('xfrm:') && /^[A-Za-z0-9_.][A-Za-z0-9_.@+-]*$/.test(counters.slice(5))) target.counters = { netns: counters.slice(5) };
  else if (counters !== 'none') throw bad('counters is none, xfrm (this network namespace\'s kernel) or xfrm:NETNS');
  return target;
}
