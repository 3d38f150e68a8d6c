/**
 * Receiving-side replay protection (docs/cli.md, FILES). For each source, identified by its
 * signing key, `put` remembers the creation time of the newest blob it applied and the ids
 * of the blobs created at that time. It refuses a blob created earlier (older state would
 * move counters backward) or one already applied. `--force` skips only this check.
 *
 * State lives in `<state dir>/applied.json`, written atomically under a lock file.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { FormatError, StaleError } from '../errors.js';
import { withLockFile, writeFileAtomic } from '../util/atomic-file.js';

const StateFile = z.strictObject({
  version: z.literal(1),
  sources: z.record(
    z.string().regex(/^[0-9a-f]{64}$/),
    z.strictObject({
      label: z.string(),
      newestCreated: z.number().int().min(0),
      idsAtNewest: z.array(z.string().regex(/^[0-9a-f]{32}$/)),
    }),
  ),
});
type StateFile = z.infer<typeof StateFile>;

export interface BlobIdentity {
  /** Hex of the signer's Ed25519 public key. */
  signer: string;
  /** Hex of the blob id. */
  id: string;
  createdMs: number;
  label: string;
}

/** XDG_STATE_HOME/ipsec-ctx, else ~/.local/state/ipsec-ctx; IPSEC_CTX_STATE_DIR wins over both. */
export function defaultStateDir(env: NodeJS.ProcessEnv): string {
  if (env['IPSEC_CTX_STATE_DIR']) return env['IPSEC_CTX_STATE_DIR'];
  const base = env['XDG_STATE_HOME'] || join(env['HOME'] || homedir(), '.local', 'state');
  return join(base, 'ipsec-ctx');
}

export class ReplayStore {
  private readonly file: string;

  constructor(private readonly dir: string) {
    this.file = join(dir, 'applied.json');
  }

  private load(): StateFile {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, sources: {} };
      throw error;
    }
    const parsed = StateFile.safeParse(JSON.parse(text));
    if (!parsed.success) throw new FormatError('format.replay_state', `replay state ${this.file} is damaged`, { hint: 'inspect or remove it; removing it forgets which blobs were applied' });
    return parsed.data;
  }

  /** @throws StaleError `replay.already_applied` or `replay.older` */
  check(blob: BlobIdentity): void {
    const seen = this.load().sources[blob.signer];
    if (!seen) return;
    if (blob.createdMs === seen.newestCreated && seen.idsAtNewest.includes(blob.id)) {
      throw new StaleError('replay.already_applied', `blob ${blob.id.slice(0, 12)} from ${blob.label} was already applied`, {
        hint: 'pass --force to apply it again (counters still never move backward)',
      });
    }
    if (blob.createdMs < seen.newestCreated) {
      const behind = Math.round((seen.newestCreated - blob.createdMs) / 1000);
      throw new StaleError('replay.older', `blob from ${blob.label} is ${behind}s older than one already applied from it`, {
        hint: 'take a fresh one with `ipsec-ctx get`, or pass --force',
      });
    }
  }

  /** Records an applied blob. */
  async record(blob: BlobIdentity): Promise<void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    await withLockFile(
      this.file,
      () => new StaleError('replay.busy', `replay state ${this.file} is locked by another ipsec-ctx`),
      () => {
        const state = this.load();
        const seen = state.sources[blob.signer];
        if (!seen || blob.createdMs > seen.newestCreated) {
          state.sources[blob.signer] = { label: blob.label, newestCreated: blob.createdMs, idsAtNewest: [blob.id] };
        } else if (blob.createdMs === seen.newestCreated && !seen.idsAtNewest.includes(blob.id)) {
          seen.idsAtNewest.push(blob.id);
        }
        writeFileAtomic(this.file, `${JSON.stringify(state, null, 2)}\n`);
      },
    );
  }
}
