/** A temporary directory per test, with identities and fixture gateways ready to use. */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { generateIdentity, encodePublicKey, type Identity } from '../../lib/crypto/key-text.js';
import { identityFileText } from '../../lib/crypto/key-files.js';
import { seededRandom } from '../../lib/crypto/random.js';
import type { Context } from '../../lib/model/context.js';
import { parseContext } from '../../lib/model/validate.js';

export const FIXTURES = new URL('../../../fixtures/', import.meta.url).pathname;
export const GATEWAY_FIXTURES = readdirSync(join(FIXTURES, 'gateways')).filter((name) => name.endsWith('.json')).sort();

export function fixtureContext(name: string): Context {
  return parseContext(JSON.parse(readFileSync(join(FIXTURES, 'gateways', name), 'utf8')));
}

export function testIdentity(name: string): Identity {
  return generateIdentity(seededRandom(`test identity ${name}`));
}

export interface Workspace {
  dir: string;
  path(name: string): string;
  /** Writes `<name>.key` (mode 0600) and returns the public key text. */
  identity(name: string): string;
}

export function workspace(t: ExecutionContext): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'ipsec-ctx-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    path: (name) => join(dir, name),
    identity: (name) => {
      const identity = testIdentity(name);
      writeFileSync(join(dir, `${name}.key`), identityFileText(identity, new Date(0)), { mode: 0o600 });
      return encodePublicKey(identity.publicKey);
    },
  };
}
