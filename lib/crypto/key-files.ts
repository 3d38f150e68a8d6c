/**
 * Identity files and key lists on disk (docs/cli.md, FILES).
 *
 * An identity file holds one secret key line plus comments; `keygen` creates it with O_EXCL
 * and mode 0600. A key list (-R, --trust-file) holds public keys, one per line; `#` starts a
 * comment and blank lines are skipped.
 */
import { closeSync, fsyncSync, openSync, readFileSync, writeSync, constants as fs } from 'node:fs';
import { FormatError, UsageError } from '../errors.js';
import { type Identity, type PublicKey, encodePublicKey, encodeSecretKey, looksSecret, parsePublicKey, parseSecretKey } from './key-text.js';

export function identityFileText(identity: Identity, created: Date): string {
  return [
    '# ipsec-ctx identity: secret, keep it private (mode 0600)',
    `# created: ${created.toISOString()}`,
    `# public key: ${encodePublicKey(identity.publicKey)}`,
    encodeSecretKey(identity),
    '',
  ].join('\n');
}

/** Creates `path` with mode 0600, failing if it exists. @throws UsageError `usage.file_exists` */
export function writeNewSecretFile(path: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(path, fs.O_WRONLY | fs.O_CREAT | fs.O_EXCL, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError('usage.file_exists', `${path} already exists; not overwriting it`, {
        hint: 'remove it first, or choose another -o path',
      });
    }
    throw error;
  }
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function meaningfulLines(text: string): { line: string; number: number }[] {
  return text
    .split(/\r?\n/)
    .map((line, index) => ({ line: line.trim(), number: index + 1 }))
    .filter(({ line }) => line !== '' && !line.startsWith('#'));
}

/** @throws FormatError when the file is not exactly one valid secret key */
export function parseIdentityText(text: string, source: string): Identity {
  const lines = meaningfulLines(text);
  const secrets = lines.filter(({ line }) => looksSecret(line));
  if (secrets.length === 0) {
    const publicOnly = lines.some(({ line }) => line.startsWith('ipsecctx1'));
    throw new FormatError('key.no_identity', `${source} holds no identity`, {
      hint: publicOnly ? 'it holds a public key; -i wants the file `ipsec-ctx keygen -o` wrote' : 'create one with `ipsec-ctx keygen -o FILE`',
    });
  }
  if (secrets.length > 1 || lines.length > 1) {
    throw new FormatError('key.identity_lines', `${source} must hold exactly one secret key line`);
  }
  return parseSecretKey((secrets[0] as { line: string }).line);
}

export function readIdentityFile(path: string): Identity {
  return parseIdentityText(readTextFile(path), path);
}

/** @throws FormatError naming the line, never echoing a secret */
export function parseKeyList(text: string, source: string): PublicKey[] {
  return meaningfulLines(text).map(({ line, number }) => {
    if (looksSecret(line)) {
      throw new FormatError('key.secret_in_list', `apparent identity found in ${source} at line ${number}`, {
        hint: 'key lists hold public keys (ipsecctx1...); remove the secret and rotate it',
      });
    }
    try {
      return parsePublicKey(line);
    } catch (error) {
      if (error instanceof FormatError) {
        throw new FormatError(error.code, `${source}, line ${number}: ${error.message}`, error.hint === undefined ? {} : { hint: error.hint });
      }
      throw error;
    }
  });
}

export function readKeyListFile(path: string): PublicKey[] {
  return parseKeyList(readTextFile(path), path);
}

function readTextFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError('usage.unreadable_file', `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? 'error')}`);
  }
}
