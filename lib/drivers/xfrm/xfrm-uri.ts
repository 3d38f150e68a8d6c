/**
 * `xfrm:` gateway URIs: `xfrm:` is the network namespace ipsec-ctx runs in, `xfrm:?netns=NAME`
 * a named one (`ip netns` names, from /run/netns) or `xfrm:?netns=/proc/PID/ns/net` (a path).
 * Anything else after the colon is refused, so that a typo never silently means "this host".
 */
import { UsageError } from '../../errors.js';

export interface XfrmTarget {
  /** The URI as written back in messages. */
  uri: string;
  netns?: string;
}

const NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.@+-]*$/;

/** @throws UsageError `usage.bad_uri` */
export function parseXfrmUri(rest: string): XfrmTarget {
  if (rest === '') return { uri: 'xfrm:' };
  const bad = (why: string) =>
    new UsageError('usage.bad_uri', `bad xfrm: URI ${JSON.stringify(`xfrm:${rest}`)}: ${why}`, { hint: 'write xfrm: for this network namespace, or xfrm:?netns=NAME' });
  if (!rest.startsWith('?')) throw bad('only ?netns=NAME may follow the colon');
  const params = new URLSearchParams(rest.slice(1));
  const keys = [...params.keys()];
  if (keys.length !== 1 || keys[0] !== 'netns') throw bad('the only parameter is netns');
  const netns = params.get('netns') ?? '';
  const absolute = netns.startsWith('/') && !netns.split('/').includes('..');
  if (!absolute && (!NAME.test(netns) || netns === '.' || netns === '..')) throw bad('netns wants a name from `ip netns` or an absolute path');
  return { uri: `xfrm:?netns=${netns}`, netns };
}
