/** The abtool program: registers every command and holds the single top-level catch. */
import { Command, CommanderError } from 'commander';
import { ArgumentError } from '../core/types.js';
import { SpecError } from '../analysis/spec.js';
import { envWarnings } from './env.js';
import { CliError, EXIT_CODES } from './exitCode.js';
import { registerStats } from './stats.js';
import { registerAnalyze } from './analyze.js';
import { registerSampleSize } from './sampleSize.js';
import { registerInspect } from './inspect.js';
import { registerPlan } from './plan.js';
import { registerAssign } from './assign.js';
import { registerWatch } from './watch.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('abtool')
    .description('Measure a challenger model against the champion in production: shadow, canary and A/B analysis of prediction logs.')
    .version('0.1.0')
    .showHelpAfterError('(add --help for usage and examples)')
    .exitOverride();
  registerAnalyze(program);
  registerSampleSize(program);
  registerStats(program);
  registerInspect(program);
  registerPlan(program);
  registerAssign(program);
  registerWatch(program);
  for (const cmd of program.commands) exitOverrideAll(cmd);
  return program;
}

function exitOverrideAll(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) exitOverrideAll(sub);
}

/**
 * Output whose reader has gone (`abtool ... | head -1`: the write fails with EPIPE) ends the run
 * quietly, as for a program killed by SIGPIPE but without a signal: the exit code so far (0 for help
 * text); another write error (a full disk) is reported, exit 64 as for an --output file that cannot
 * be written. A closed stderr loses its messages, not the exit code. A command that handles it itself (watch stops watching) has its own listener, and this one
 * leaves it to that.
 */
function quietOnClosedStdout(): void {
  // a message that cannot be written to a closed stderr (`2>&1 | head -1`) is lost, but the run goes
  // on to its exit code instead of dying of the write error
  process.stderr.on('error', () => undefined);
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (process.stdout.listenerCount('error') > 1) return;
    if (e.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    // as for an --output file that cannot be written
    process.stderr.write(`abtool: cannot write to standard output (${e.code ?? e.message})\n`);
    process.exit(EXIT_CODES.usage);
  });
}

export async function main(argv: string[]): Promise<number> {
  quietOnClosedStdout();
  for (const w of envWarnings()) process.stderr.write(`abtool: warning: ${w}\n`);
  const program = buildProgram();
  if (argv.length <= 2) {
    process.stderr.write(program.helpInformation());
    return EXIT_CODES.usage;
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    return handleError(e);
  }
}

function handleError(e: unknown): number {
  if (e instanceof CommanderError) {
    // help asked for is a success; help shown because no (sub)command was given is a usage error
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    if (e.code === 'commander.help') return e.exitCode === 0 ? 0 : EXIT_CODES.usage;
    // commander has already printed its message
    return EXIT_CODES.usage;
  }
  if (e instanceof CliError) {
    process.stderr.write(`abtool: ${e.message}\n`);
    return e.code;
  }
  if (e instanceof SpecError) {
    process.stderr.write(`abtool: ${e.message}\n`);
    return EXIT_CODES.usage;
  }
  if (e instanceof ArgumentError) {
    process.stderr.write(`abtool: ${e.message}\n`);
    return EXIT_CODES.usage;
  }
  const err = e as Error;
  process.stderr.write(`abtool: internal error: ${err?.message ?? String(e)}\n`);
  if (process.env.ABTOOL_DEBUG === '1') process.stderr.write(`${err?.stack ?? ''}\n`);
  return 70;
}

const code = await main(process.argv);
process.exitCode = code;
