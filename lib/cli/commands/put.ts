/** `ipsec-ctx put`: verify, decrypt and validate a blob, then restore it on a gateway, all or nothing. */
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { UsageError } from '../../errors.js';
import { readIdentityFile } from '../../crypto/key-files.js';
import { openDriver } from '../../drivers/registry.js';
import { type Trust, checkExpiry, decodeContextPayload, decryptBlob, parseBlob, verifyBlob } from '../../format/envelope.js';
import { ReplayStore, defaultStateDir } from '../../replay/replay-store.js';
import { DEFAULT_JUMP, prepareForRestore } from '../../restore/prepare.js';
import type { Io } from '../io.js';
import { readInput, say, warn } from '../io.js';
import { collect, gatherKeys, parseCount, requireIdentityPath } from '../options.js';
import { countsText, renderPlan, summarizeChanges } from '../render.js';

interface PutOptions {
  to: string;
  identity?: string;
  trust?: string[];
  trustFile?: string[];
  trustAnySigner?: boolean;
  dryRun?: boolean;
  replace?: boolean;
  force?: boolean;
  stateDir?: string;
  seqJumpFloor: bigint;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

export function makePutCommand(io: Io): Command {
  return new Command('put')
    .description('verify, decrypt and restore a blob on a gateway, all or nothing')
    .argument('[file]', 'blob to read; - or nothing for stdin')
    .requiredOption('--to <uri>', 'gateway to restore into, e.g. file:gw.json')
    .option('-i, --identity <file>', "this gateway's identity file; opens the blob")
    .option('--trust <key>', 'public key of a gateway whose blobs are accepted (repeatable)', collect)
    .option('--trust-file <file>', 'file of trusted signer keys, one per line (repeatable)', collect)
    .addOption(new Option('--trust-any-signer', 'accept a validly signed blob from any key (not recommended)').conflicts(['trust', 'trustFile']))
    .option('--dry-run', 'verify everything and print what would change, without changing it')
    .option('--replace', 'overwrite SAs and policies that exist on the target with different keys')
    .option('--force', 'apply a blob older than, or the same as, one applied before (all other checks stay)')
    .option('--state-dir <dir>', 'where applied blob ids are remembered (default $IPSEC_CTX_STATE_DIR, $XDG_STATE_HOME/ipsec-ctx or ~/.local/state/ipsec-ctx)')
    .addOption(new Option('--seq-jump-floor <n>', 'minimum forward jump of every outbound sequence counter').default(DEFAULT_JUMP.floor, String(DEFAULT_JUMP.floor)).argParser(parseCount))
    .addHelpText(
      'after',
      `
Checks, in order: blob structure, trusted signer and signature, expiry, replay, decryption,
schema; then outbound sequence counters jump forward and the gateway applies everything or
nothing. Nothing is changed on any failure.

Examples:
  $ ipsec-ctx put --to file:gw-b.json -i gw-b.key --trust "$(cat gw-a.pub)" ctx.blob
  $ ssh gw-a ipsec-ctx get --from file:gw-a.json -i gw-a.key -r "$B" | ipsec-ctx put --to file:gw-b.json -i gw-b.key --trust-file signers.txt --dry-run`,
    )
    .action(async (file: string | undefined, options: PutOptions) => {
      const trustedKeys = gatherKeys(io, options.trust, options.trustFile);
      if (!options.trustAnySigner && trustedKeys.length === 0) {
        throw new UsageError('usage.no_trust', 'put needs to know whose blobs to accept', { hint: 'pass --trust KEY or --trust-file FILE (or, knowingly, --trust-any-signer)' });
      }
      const trust: Trust = options.trustAnySigner ? { any: true } : { signers: trustedKeys };
      const identity = readIdentityFile(resolve(io.cwd, requireIdentityPath(options.identity, 'to open the blob')));
      const driver = await openDriver(options.to, { nowMs: io.nowMs, cwd: io.cwd, notice: (text) => say(io, text), catchInterrupts: io.catchInterrupts });

      const parsed = parseBlob(await readInput(io, file));
      verifyBlob(parsed, trust);
      const nowMs = io.nowMs();
      checkExpiry(parsed.header, nowMs);
      const replay = new ReplayStore(resolve(io.cwd, options.stateDir ?? defaultStateDir(io.env)));
      const blobIdentity = { signer: hex(parsed.signer.ed25519), id: hex(parsed.header.id), createdMs: parsed.header.created, label: parsed.header.source };
      if (!options.force) replay.check(blobIdentity);
      const context = decodeContextPayload(decryptBlob(parsed, [identity]), parsed.header);

      const prepared = prepareForRestore(context, nowMs, { ...DEFAULT_JUMP, floor: options.seqJumpFloor });
      for (const skip of prepared.skipped) warn(io, `skipping ${skip.description}: ${skip.reason}`);
      const report = await driver.apply(prepared.context, { replace: Boolean(options.replace), dryRun: Boolean(options.dryRun) });
      for (const warning of report.warnings ?? []) warn(io, warning);

      if (options.dryRun) {
        io.stdout.write(`${[`dry run: ${options.to} from ${parsed.header.source}: ${summarizeChanges(report.changes)}`, ...renderPlan(report.changes, prepared)].join('\n')}\n`);
        return;
      }
      try {
        await replay.record(blobIdentity);
      } catch (error) {
        warn(io, `applied, but could not record the blob id for replay protection: ${error instanceof Error ? error.message : String(error)}`);
      }
      say(io, `applied ${countsText(prepared.context)} from ${parsed.header.source} to ${options.to}: ${summarizeChanges(report.changes)}; ${prepared.jumps.length} outbound counter(s) jumped forward`);
    });
}
