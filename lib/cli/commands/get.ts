/** `ipsec-ctx get`: read a gateway's context, seal it to recipients, sign it. */
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { UsageError } from '../../errors.js';
import { readIdentityFile } from '../../crypto/key-files.js';
import { openDriver } from '../../drivers/registry.js';
import { sealLarge } from '../../format/envelope.js';
import type { Context } from '../../model/context.js';
import { filterContext } from '../../model/filter.js';
import type { Io } from '../io.js';
import { refuseBinaryToTerminal, say, writeBinaryOutput } from '../io.js';
import { collect, gatherKeys, parseDuration, parseSpi, parseUint32, requireIdentityPath } from '../options.js';
import { countsText } from '../render.js';

interface GetOptions {
  from: string;
  output?: string;
  recipient?: string[];
  recipientsFile?: string[];
  identity?: string;
  expires: number;
  label?: string;
  connection?: string[];
  reqid?: number[];
  spi?: string[];
  peer?: string[];
  move?: boolean;
}

const collectWith =
  <T>(parse: (text: string) => T) =>
  (value: string, previous: T[] | undefined): T[] => [...(previous ?? []), parse(value)];

export function makeGetCommand(io: Io): Command {
  return new Command('get')
    .description("read a gateway's security context and write it as a sealed, signed blob")
    .requiredOption('--from <uri>', 'gateway to read, e.g. file:gw.json')
    .option('-o, --output <file>', 'write the blob here (mode 0600) instead of stdout; - forces stdout')
    .option('-r, --recipient <key>', 'public key allowed to open the blob (repeatable)', collect)
    .option('-R, --recipients-file <file>', 'file of recipient public keys, one per line (repeatable)', collect)
    .option('-i, --identity <file>', "this gateway's identity file; signs the blob")
    .addOption(new Option('--expires <duration>', 'how long the blob may be applied (e.g. 90s, 10m, 1h)').default(600_000, '10m').argParser(parseDuration))
    .option('--label <name>', "source label in the header (default: the gateway's own name)")
    .option('--connection <name>', 'only IKE SAs of this connection, with their CHILD SAs (repeatable)', collect)
    .option('--reqid <n>', 'only CHILD SAs with this reqid, with their IKE SA (repeatable)', collectWith(parseUint32))
    .option('--spi <hex>', 'only the CHILD SA with this SPI, with its IKE SA (repeatable)', collectWith(parseSpi))
    .option('--peer <address>', 'only SAs and policies to or from this peer (repeatable)', collect)
    .option('--move', 'take the exported SAs and policies out of service on the source once the blob is written')
    .addHelpText(
      'after',
      `
An IKE SA always moves with all of its CHILD SAs. Filters combine with "or".

Examples:
  $ ipsec-ctx get --from file:gw-a.json -i gw-a.key -r "$(cat gw-b.pub)" -o ctx.blob
  $ ipsec-ctx get --from file:gw-a.json -i gw-a.key -R peers.txt --move | ssh gw-b ipsec-ctx put --to file:gw-b.json -i gw-b.key --trust-file signers.txt`,
    )
    .action(async (options: GetOptions) => {
      const identity = readIdentityFile(resolve(io.cwd, requireIdentityPath(options.identity, 'to sign the blob')));
      const recipients = gatherKeys(io, options.recipient, options.recipientsFile);
      if (recipients.length === 0) {
        throw new UsageError('usage.no_recipient', 'get needs at least one recipient (-r KEY or -R FILE)', { hint: "add the target gateway's public key; add your own to be able to inspect the blob" });
      }
      // Checked before reading the gateway, so nothing is read (or moved) for nothing.
      refuseBinaryToTerminal(io, options.output);
      const filter = { connections: options.connection, reqids: options.reqid, spis: options.spi, peers: options.peer };
      const select = (context: Context) => filterContext(context, filter);
      const deliver = async (context: Context) => {
        const labelled = options.label === undefined ? context : { ...context, provenance: { ...context.provenance, source: options.label } };
        const createdMs = io.nowMs();
        const blob = await sealLarge({ context: labelled, recipients, signer: identity, createdMs, expiresMs: createdMs + options.expires, random: io.random });
        writeBinaryOutput(io, options.output, blob);
        say(io, `sealed ${countsText(context)} from ${options.from} for ${recipients.length} recipient(s)`);
      };

      const driver = await openDriver(options.from, { nowMs: io.nowMs, cwd: io.cwd, notice: (text) => say(io, text), catchInterrupts: io.catchInterrupts });
      if (options.move) {
        const { removed } = await driver.take(select, deliver);
        say(io, `moved: took ${removed.length} record(s) out of service on ${options.from}`);
      } else {
        await deliver(select(await driver.read()));
      }
    });
}
