/** `ipsec-ctx inspect`: the header of a blob, or with -i its whole content, keys hidden unless asked. */
import { resolve } from 'node:path';
import { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { readIdentityFile } from '../../crypto/key-files.js';
import { samePublicKey } from '../../crypto/key-text.js';
import { decodeContextPayload, decryptBlob, parseBlob, verifyBlob } from '../../format/envelope.js';
import type { Io } from '../io.js';
import { readInput } from '../io.js';
import { collect, gatherKeys } from '../options.js';
import { contextJsonView, headerJsonView, renderContext, renderHeader } from '../render.js';

interface InspectOptions {
  identity?: string;
  json?: boolean;
  showKeys?: boolean;
  trust?: string[];
  trustFile?: string[];
}

export function makeInspectCommand(io: Io): Command {
  return new Command('inspect')
    .description('show what a blob holds: its header, or with -i its IKE SAs, CHILD SAs and policies')
    .argument('[file]', 'blob to read; - or nothing for stdin')
    .option('-i, --identity <file>', 'identity to decrypt the blob with; without it only the header is shown')
    .option('--trust <key>', 'also report whether the signer is one of these keys (repeatable)', collect)
    .option('--trust-file <file>', 'file of trusted signer keys (repeatable)', collect)
    .option('--json', 'print JSON (fields documented in docs/cli.md)')
    .option('--show-keys', 'print keys and nonces instead of (hidden)')
    .addHelpText(
      'after',
      `
The signature is always verified (against the key the blob names); a blob that fails it is
not shown. Keys and nonces stay hidden unless --show-keys.

Examples:
  $ ipsec-ctx inspect ctx.blob
  $ ipsec-ctx get --from file:gw-a.json -i gw-a.key -r "$(cat gw-a.pub)" | ipsec-ctx inspect -i gw-a.key`,
    )
    .action(async (file: string | undefined, options: InspectOptions) => {
      if (options.showKeys && !options.identity) {
        throw new UsageError('usage.conflicting_options', '--show-keys needs -i IDENTITY: without it nothing is decrypted');
      }
      const parsed = parseBlob(await readInput(io, file));
      verifyBlob(parsed, { any: true });
      const trustList = gatherKeys(io, options.trust, options.trustFile);
      const trusted = trustList.length ? trustList.some((key) => samePublicKey(key, parsed.signer)) : undefined;
      const status = { signer: parsed.signer, trusted, nowMs: io.nowMs() };
      const context = options.identity
        ? decodeContextPayload(decryptBlob(parsed, [readIdentityFile(resolve(io.cwd, options.identity))]), parsed.header)
        : undefined;

      if (options.json) {
        const view = { header: headerJsonView(parsed.header, status), ...(context ? { context: contextJsonView(context, Boolean(options.showKeys)) } : {}) };
        io.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
        return;
      }
      const lines = renderHeader(parsed.header, status);
      if (context) lines.push('', ...renderContext(context, Boolean(options.showKeys), status.nowMs));
      io.stdout.write(`${lines.join('\n')}\n`);
    });
}

