/**
 * Small tools for the lab scenarios (lab-driver.ts): running `ip` and the real ipsec-ctx
 * binary, gateway identities, and a tally of checks that prints `ok`/`FAIL` lines per scenario.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { identityFileText, writeNewSecretFile } from '../../../lib/crypto/key-files.js';
import { encodePublicKey, generateIdentity } from '../../../lib/crypto/key-text.js';

export const BIN = 'bin/ipsec-ctx';
export const work = mkdtempSync('/tmp/lab-driver-');

/** `ip [-n NETNS] -batch -` with one command per line. */
export function ipBatch(netns: string | undefined, lines: readonly string[]): void {
  execFileSync('ip', [...(netns ? ['-n', netns] : []), '-batch', '-'], { input: `${lines.join('\n')}\n`, stdio: ['pipe', 'inherit', 'inherit'] });
}

export function sh(command: string): string {
  return execFileSync('sh', ['-c', command], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A shell pipeline of real ipsec-ctx processes (`$BIN` is the binary), timed on the wall clock. */
export function pipeline(command: string): CliRun {
  const started = Date.now();
  const result = spawnSync('sh', ['-c', command], { encoding: 'utf8', env: { ...process.env, BIN } });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr, ms: Date.now() - started };
}

/** The same, without waiting: resolves when the pipeline ends. */
export function pipelineAsync(command: string): Promise<CliRun> {
  const started = Date.now();
  const child = spawn('sh', ['-c', command], { env: { ...process.env, BIN } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr, ms: Date.now() - started })));
}

export interface Gateway {
  key: string;
  pub: string;
}

/** A gateway identity file in the scratch directory, and its public key. */
export function identity(name: string): Gateway {
  const id = generateIdentity((n) => new Uint8Array(randomBytes(n)));
  const key = join(work, `${name}.key`);
  writeNewSecretFile(key, identityFileText(id, new Date()));
  return { key, pub: encodePublicKey(id.publicKey) };
}

export class Tally {
  failures = 0;
  constructor(private readonly scenario: string) {}

  check(ok: boolean, what: string, detail = ''): boolean {
    if (!ok) this.failures++;
    console.log(`${ok ? 'ok' : 'FAIL'} ${this.scenario}: ${what}${!ok && detail ? `\n    ${detail.replace(/\n/g, '\n    ')}` : ''}`);
    return ok;
  }

  info(text: string): void {
    console.log(`   ${this.scenario}: ${text}`);
  }

  done(): boolean {
    console.log(this.failures === 0 ? `scenario ${this.scenario} OK` : `scenario ${this.scenario} FAILED (${this.failures})`);
    return this.failures === 0;
  }
}
