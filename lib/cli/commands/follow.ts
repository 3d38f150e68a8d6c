/**
 * `ipsec-ctx follow`: act as a gateway charon's passive HA standby and keep an always-current
 * sealed snapshot of its IKE and CHILD SAs in a file, for `put` to read (docs/strongswan.md).
 * Runs until SIGINT or SIGTERM (`io.catchInterrupts`; in-process tests abort it themselves),
 * then writes a last snapshot if something changed and returns normally.
 */
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../../errors.js';
import { readIdentityFile } from '../../crypto/key-files.js';
import { sealLarge } from '../../format/envelope.js';
import type { Io } from '../io.js';
import { say, warn } from '../io.js';
import { collect, gatherKeys, parseDuration, requireIdentityPath } from '../options.js';
import { writeFileAtomic } from '../../util/atomic-file.js';

interface FollowOptions {
  from: string;
  output: string;
  recipient?: string[];
  recipientsFile?: string[];
  identity?: string;
  every: number;
  expires: number;
  label?: string;
  resync?: boolean;
}

/** "250ms", or a duration as --expires takes it ("1s", "2m"). */
function parseInterval(text: string): number {
  const ms = /^([1-9][0-9]{0,6})ms$/.exec(text);
  if (ms) return Number(ms[1]);
  const value = parseDuration(text);
  if (value > 3_600_000) throw new InvalidArgumentError('expected at most 1h');
  return value;
}

export function makeFollowCommand(io: Io): Command {
  return new Command('follow')
    .description("act as a strongSwan gateway's HA standby and keep a sealed snapshot of its SAs current in a file")
    .requiredOption('--from <uri>', 'gateway to follow: strongswan:HA_ADDRESS?bind=LOCAL_ADDRESS')
    .requiredOption('-o, --output <file>', 'the snapshot file, rewritten atomically (mode 0600) after changes')
    .option('-r, --recipient <key>', 'public key allowed to open the snapshot (repeatable)', collect)
    .option('-R, --recipients-file <file>', 'file of recipient public keys, one per line (repeatable)', collect)
    .option('-i, --identity <file>', "this gateway's identity file; signs each snapshot")
    .addOption(new Option('--every <duration>', 'at most one snapshot per interval (e.g. 250ms, 1s, 1m)').default(1000, '1s').argParser(parseInterval))
    .addOption(new Option('--expires <duration>', 'how long each snapshot may be applied; rewritten at half of it').default(600_000, '10m').argParser(parseDuration))
    .option('--label <name>', "source label in the header (default: the gateway's HA address)")
    .option('--resync', 'once at start, ask the gateway to resend its SAs (it rekeys every CHILD SA to announce them)')
    .addHelpText(
      'after',
      `
Passive: without --resync nothing is sent to the gateway. SAs the gateway made before follow
started enter the snapshot at their next rekey. Stops on SIGINT or SIGTERM.

Examples:
  $ ipsec-ctx put --to 'strongswan:127.0.0.1?bind=127.0.0.2' -i gw-b.key --trust "$A" /run/gw-a.blob
  $ ipsec-ctx follow --from 'strongswan:127.0.0.1?bind=127.0.0.2' -i gw-a.key -r "$B" -o /run/gw-a.blob 2>&1 | logger -t ipsec-ctx`,
    )
    .action(async (options: FollowOptions) => {
      if (!options.from.startsWith('strongswan:')) {
        throw new UsageError('usage.follow_unsupported', `follow needs a strongswan: gateway, not ${JSON.stringify(options.from)}`, {
          hint: 'only charon (strongswan:HA_ADDRESS?bind=LOCAL_ADDRESS) announces its SAs as it makes them; use get for other gateways',
        });
      }
      if (options.output === '-') throw new UsageError('usage.follow_output', 'follow rewrites its snapshot file and cannot write to stdout', { hint: 'pass -o FILE' });
      const identity = readIdentityFile(resolve(io.cwd, requireIdentityPath(options.identity, 'to sign the snapshots')));
      const recipients = gatherKeys(io, options.recipient, options.recipientsFile);
      if (recipients.length === 0) {
        throw new UsageError('usage.no_recipient', 'follow needs at least one recipient (-r KEY or -R FILE)', { hint: "add the standby gateway's public key; add your own to be able to inspect the snapshot" });
      }
      const output = resolve(io.cwd, options.output);
      const [{ parseStrongswanUri }, { followGateway }] = await Promise.all([import('../../drivers/strongswan/strongswan-uri.js'), import('../../drivers/strongswan/follower.js')]);
      const target = parseStrongswanUri(options.from.slice('strongswan:'.length));

      const interruption = io.catchInterrupts();
      try {
        const report = await followGateway(target, {
          signal: interruption.signal,
          everyMs: options.every,
          refreshMs: Math.max(options.every, Math.floor(options.expires / 2)),
          resync: options.resync === true,
          nowMs: io.nowMs,
          notice: (text) => (text.includes('warning: ') ? warn(io, text.replace('warning: ', '')) : say(io, text)),
          snapshot: async (context, info) => {
            const labelled = { ...context, provenance: { ...context.provenance, source: options.label ?? context.provenance.source } };
            const createdMs = io.nowMs();
            const blob = await sealLarge({ context: labelled, recipients, signer: identity, createdMs, expiresMs: createdMs + options.expires, random: io.random });
            writeFileAtomic(output, blob, 0o600);
            void info;
          },
        });
        say(io, `stopped following ${target.uri}: wrote ${report.snapshots} snapshot(s) to ${options.output} from ${report.received} HA datagram(s)${report.rejected ? `, dropped ${report.rejected} from elsewhere` : ''}`);
      } finally {
        interruption.release();
      }
    });
}
