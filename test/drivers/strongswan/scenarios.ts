/**
 * The captures in fixtures/strongswan/ (test/drivers/strongswan/capture-fixtures.sh): one
 * directory per scenario with the gateway's HA datagrams, its charon log's key dumps,
 * `swanctl --list-sas` at snapshot time and the model ipsec-ctx built then.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const STRONGSWAN_FIXTURES = new URL('../../../../fixtures/strongswan/', import.meta.url).pathname;

export interface Scenario {
  name: string;
  /** Milliseconds since the HA peer started, and the datagram. */
  datagrams: { atMs: number; bytes: Uint8Array }[];
  log: string;
  listSas: string;
  contextJson: unknown;
  version: string;
}

export function readScenario(dir: string, name = dir): Scenario {
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  return {
    name,
    datagrams: read('ha.txt')
      .trim()
      .split('\n')
      .map((line) => {
        const [at, hex] = line.split(' ') as [string, string];
        return { atMs: Number(at), bytes: new Uint8Array(Buffer.from(hex, 'hex')) };
      }),
    log: read('charon-gw.log'),
    listSas: read('list-sas.txt'),
    contextJson: JSON.parse(read('context.json')),
    version: read('version.txt'),
  };
}

export const SCENARIOS: Scenario[] = readdirSync(STRONGSWAN_FIXTURES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => readScenario(join(STRONGSWAN_FIXTURES, entry.name), entry.name))
  .sort((a, b) => a.name.localeCompare(b.name));

/** SPIs `swanctl --list-sas` shows: IKE `i_ r_` pairs and CHILD `in`/`out` SPIs, in hex. */
export function listedSpis(listSas: string): { ike: string[]; childIn: string[]; childOut: string[] } {
  return {
    ike: [...listSas.matchAll(/([0-9a-f]{16})_i\*? ([0-9a-f]{16})_r/g)].map((m) => `${m[1]}${m[2]}`),
    childIn: [...listSas.matchAll(/^\s+in\s+([0-9a-f]{8})/gm)].map((m) => m[1] as string),
    childOut: [...listSas.matchAll(/^\s+out\s+([0-9a-f]{8})/gm)].map((m) => m[1] as string),
  };
}
