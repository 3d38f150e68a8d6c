/**
 * Which HA protocol a charon speaks (docs/strongswan.md §2, §10). There is no negotiation: a
 * receiver drops every message whose version byte differs from its own, logging only "HA
 * message has version X, expected Y". So the version must be known before sending, either
 * from the first datagram the gateway sent (STATUS arrives every second) or from its release.
 */
import { FormatError } from '../../errors.js';
import type { Layout } from './protocol.js';

export const SUPPORTED_VERSIONS = [3, 4, 5] as const;

/**
 * The attribute numbering of a version byte.
 * @throws FormatError `strongswan.version_unsupported`
 */
export function layoutForVersion(version: number, v3Layout: 'v3' | 'v3-50' = 'v3'): Layout {
  switch (version) {
    case 3:
      return v3Layout;
    case 4:
      return 'v4';
    case 5:
      return 'v5';
    default:
      throw new FormatError('strongswan.version_unsupported', `HA protocol version ${version} is not supported (3, 4 and 5 are: strongSwan 5.0.0 and later)`, {
        hint: version < 3 ? 'strongSwan before 5.0 speaks an older HA protocol; upgrade the gateway' : 'a newer strongSwan than ipsec-ctx knows; check for an ipsec-ctx update',
      });
  }
}

/** The version byte of a datagram without decoding the rest. */
export function versionOf(datagram: Uint8Array): number | undefined {
  return datagram.length >= 2 ? datagram[0] : undefined;
}

/**
 * The layout a strongSwan release speaks, from a version string such as "5.9.8" (as in
 * `swanctl --version` or charon's "Starting IKE charon daemon (strongSwan 5.9.8, ...)").
 * @throws FormatError `strongswan.version_unsupported` for releases before 5.0.0 or unparsable text
 */
export function layoutForRelease(release: string): Layout {
  const match = /(\d+)\.(\d+)\.(\d+)/.exec(release);
  if (!match) throw new FormatError('strongswan.version_unsupported', `not a strongSwan version: ${JSON.stringify(release)}`);
  const [major, minor, patch] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const at = (a: number, b: number, c: number) => major > a || (major === a && (minor > b || (minor === b && patch >= c)));
  if (!at(5, 0, 0)) {
    throw new FormatError('strongswan.version_unsupported', `strongSwan ${match[0]} speaks HA protocol version 1 or 2, which ipsec-ctx does not`);
  }
  if (at(6, 0, 2)) return 'v5';
  if (at(6, 0, 1)) return 'v4';
  if (at(5, 4, 0)) return 'v3';
  return 'v3-50';
}

/** The release from charon's start-up log line or `swanctl --version` output, if present. */
export function releaseFromText(text: string): string | undefined {
  return /strongSwan (?:swanctl )?(\d+\.\d+\.\d+)/.exec(text)?.[1] ?? /swanctl (\d+\.\d+\.\d+)/.exec(text)?.[1];
}
