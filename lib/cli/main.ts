/**
 * The ipsec-ctx command line. `main(argv, io)` never exits the process and never throws: it
 * returns the exit status (docs/cli.md, EXIT STATUS), having written at most one error line
 * and one hint line to stderr, in this voice:
 *
 *   ipsec-ctx: error: blob signed by gw-a (ipsecctx1…), which is not trusted
 *   ipsec-ctx: hint: pass that gateway's public key with --trust ...
 *
 * Stack traces appear only with --debug. Messages never carry secret material.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ExitCode, isCtxError } from '../errors.js';
import type { Io } from './io.js';
import { makeFollowCommand } from './commands/follow.js';
import { makeGetCommand } from './commands/get.js';
import { makeInspectCommand } from './commands/inspect.js';
import { makeKeygenCommand } from './commands/keygen.js';
import { makePutCommand } from './commands/put.js';

function packageVersion(): string {
  const text = readFileSync(new URL('../../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

function buildProgram(io: Io): Command {
  const program = new Command('ipsec-ctx')
    .description('move a live IPsec/IKEv2 security context between gateways without renegotiating')
    .version(packageVersion(), '-V, --version')
    .option('--debug', 'print stack traces of errors')
    .showHelpAfterError('ipsec-ctx: hint: add --help for usage')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      // Help wraps to the terminal when there is one, else to 80 columns (stable in pipes and tests).
      getOutHelpWidth: () => io.stdout.columns ?? 80,
      getErrHelpWidth: () => 80,
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`ipsec-ctx: ${text.replace(/^error: /, 'error: ')}`),
    })
    .addHelpText(
      'after',
      `
Exit status: 0 ok, 1 internal error, 2 usage, 3 bad or corrupt input, 4 authentication
failure, 5 expired or replayed blob, 6 gateway failure (nothing changed or rolled back).

Example:
  $ ipsec-ctx get --from file:gw-a.json -i gw-a.key -r "$B" | ssh gw-b ipsec-ctx put --to file:gw-b.json -i gw-b.key --trust "$A"`,
    );
  for (const make of [makeKeygenCommand, makeGetCommand, makePutCommand, makeInspectCommand, makeFollowCommand]) {
    program.addCommand(make(io).exitOverride().configureOutput(program.configureOutput()).showHelpAfterError('ipsec-ctx: hint: add --help for usage'));
  }
  return program;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    await buildProgram(io).parseAsync([...argv], { from: 'user' });
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message (or the help/version text).
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (isCtxError(error)) {
      io.stderr.write(`ipsec-ctx: error: ${error.message}\n`);
      if (error.hint) io.stderr.write(`ipsec-ctx: hint: ${error.hint}\n`);
      if (debug && error.stack) io.stderr.write(`${error.stack}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`ipsec-ctx: error: internal error: ${message}\n`);
    io.stderr.write(debug && error instanceof Error && error.stack ? `${error.stack}\n` : 'ipsec-ctx: hint: run again with --debug for a stack trace, and report it\n');
    return ExitCode.internal;
  }
}
