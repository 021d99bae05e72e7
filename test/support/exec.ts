// Running system tools from test harnesses: execFile only (no shell, so names
// and arguments are never re-parsed), a bounded run time, and failures that
// carry the command line, exit status and stderr.
import { execFile } from 'node:child_process';

/** A system command exited non-zero, was killed, or could not be started. */
export class CommandError extends Error {
  readonly code = 'COMMAND_FAILED';
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly stdout: string,
    cause?: unknown,
  ) {
    const status = exitCode === null ? 'did not finish' : `exited ${exitCode}`;
    const detail = stderr.trim() === '' ? '' : `: ${stderr.trim()}`;
    super(`${[command, ...args].join(' ')} ${status}${detail}`, { cause });
    this.name = 'CommandError';
  }
}

export interface RunOptions {
  /** Kill the command after this long (default 30 s). */
  timeoutMs?: number;
  /** Written to the command's stdin. */
  input?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs `command args...` and resolves with its stdout; rejects with CommandError. */
export function run(command: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      {
        timeout: opts.timeoutMs ?? 30_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
        ...(opts.env === undefined ? {} : { env: opts.env }),
      },
      (err, stdout, stderr) => {
        if (err === null) {
          resolve(stdout);
          return;
        }
        const exitCode = typeof err.code === 'number' ? err.code : null;
        const why = typeof err.code === 'string' ? `${err.code} ${stderr}` : stderr;
        reject(new CommandError(command, args, exitCode, why, stdout, err));
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Minimal view of ava's ExecutionContext: enough to register cleanup. */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

const exitCallbacks = new Set<() => void>();
let exitListening = false;

/**
 * Runs `fn` synchronously when the process exits: the last resort that removes
 * bridges, namespaces and child processes a crashed test did not tear down.
 * Returns a function that unregisters it.
 */
export function atExit(fn: () => void): () => void {
  if (!exitListening) {
    exitListening = true;
    process.once('exit', () => {
      for (const cb of exitCallbacks) {
        try {
          cb();
        } catch {
          // Nothing more can be done while exiting; run the others.
        }
      }
    });
  }
  exitCallbacks.add(fn);
  return () => exitCallbacks.delete(fn);
}
