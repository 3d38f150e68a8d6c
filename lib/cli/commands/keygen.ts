/** `ipsec-ctx keygen`: a new gateway identity, or the public key of an existing one. */
import { resolve } from 'node:path';
import { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { generateIdentity, encodePublicKey } from '../../crypto/key-text.js';
import { identityFileText, readIdentityFile, writeNewSecretFile } from '../../crypto/key-files.js';
import type { Io } from '../io.js';
import { say } from '../io.js';

export function makeKeygenCommand(io: Io): Command {
  return new Command('keygen')
    .description('create a gateway identity (X25519 + Ed25519) and print its public key')
    .option('-o, --output <file>', 'identity file to create (mode 0600, never overwritten)')
    .option('-y, --public-of <file>', 'print the public key of an existing identity file instead')
    .addHelpText(
      'after',
      `
The public key (ipsecctx1...) is printed on stdout. It is both the recipient other gateways
seal blobs to (-r) and the signer they trust (--trust). The identity file is secret.

Examples:
  $ ipsec-ctx keygen -o /etc/ipsec-ctx/gw-a.key > gw-a.pub
  $ ipsec-ctx keygen -y /etc/ipsec-ctx/gw-b.key | ssh gw-a 'cat >> /etc/ipsec-ctx/recipients.txt'`,
    )
    .action((options: { output?: string; publicOf?: string }) => {
      if (options.publicOf !== undefined) {
        if (options.output !== undefined) throw new UsageError('usage.conflicting_options', '-o and -y do not go together');
        io.stdout.write(`${encodePublicKey(readIdentityFile(resolve(io.cwd, options.publicOf)).publicKey)}\n`);
        return;
      }
      if (options.output === undefined) {
        throw new UsageError('usage.no_output', 'keygen needs -o FILE', { hint: 'the secret key only ever goes to a file (mode 0600), never to the terminal' });
      }
      const identity = generateIdentity(io.random);
      writeNewSecretFile(resolve(io.cwd, options.output), identityFileText(identity, new Date(io.nowMs())));
      if (!io.stdout.isTTY) say(io, `wrote identity to ${options.output}`);
      io.stdout.write(`${encodePublicKey(identity.publicKey)}\n`);
    });
}
