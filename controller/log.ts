/**
 * A tiny structured logger: one line per record on stderr (or a given sink),
 * JSON or `key=value` text. Records below the logger's level cost one
 * comparison; check `enabled(level)` before building expensive fields on hot paths.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Structured fields of a record. bigint values print as decimal strings; Errors as message + code. */
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  /** The lowest level written, or 'silent'. */
  readonly level: LogLevel | 'silent';
  enabled(level: LogLevel): boolean;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every record (same level, format and sink). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Default 'info'. */
  level?: LogLevel | 'silent';
  /** Default 'json'. */
  format?: 'json' | 'text';
  /** Receives each finished line (without the newline); default writes to process.stderr. */
  sink?: (line: string) => void;
  /** Fields added to every record. */
  fields?: LogFields;
  /** Clock for the `time` field; default Date.now. */
  now?: () => number;
}

/** A level or format string that the logger does not know. */
export class LogConfigError extends Error {
  override readonly name = 'LogConfigError';
  readonly code = 'LOG_CONFIG';
}

const RANK: Record<LogLevel | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Parses a level name (for CLI flags and env vars); throws LogConfigError on anything else. */
export function parseLogLevel(s: string): LogLevel | 'silent' {
  if (Object.hasOwn(RANK, s)) return s as LogLevel | 'silent';
  throw new LogConfigError(`unknown log level '${s}' (expected debug, info, warn, error or silent)`);
}

function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Error) {
    const code = (v as { code?: unknown }).code;
    return code === undefined ? { error: v.name, message: v.message } : { error: v.name, message: v.message, code };
  }
  if (Buffer.isBuffer(v)) return v.toString('hex');
  return v;
}

// JSON.stringify calls toJSON (Buffer has one) before the replacer: read the raw value from the holder.
function jsonReplacer(this: Record<string, unknown>, key: string, v: unknown): unknown {
  return plain(key === '' ? v : this[key]);
}

function textValue(v: unknown): string {
  const p = plain(v);
  if (typeof p === 'string') return /^[\w.:/@+-]*$/.test(p) && p !== '' ? p : JSON.stringify(p);
  if (typeof p === 'object' && p !== null) return JSON.stringify(p, jsonReplacer);
  return String(p);
}

class LineLogger implements Logger {
  private readonly rank: number;

  constructor(
    readonly level: LogLevel | 'silent',
    private readonly format: 'json' | 'text',
    private readonly sink: (line: string) => void,
    private readonly fields: LogFields,
    private readonly now: () => number,
  ) {
    this.rank = RANK[level];
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.rank;
  }

  debug(msg: string, fields?: LogFields): void {
    if (this.rank <= 10) this.write('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    if (this.rank <= 20) this.write('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    if (this.rank <= 30) this.write('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    if (this.rank <= 40) this.write('error', msg, fields);
  }

  child(fields: LogFields): Logger {
    return new LineLogger(this.level, this.format, this.sink, { ...this.fields, ...fields }, this.now);
  }

  private write(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    const time = new Date(this.now()).toISOString();
    const all = fields === undefined ? this.fields : { ...this.fields, ...fields };
    let line: string;
    if (this.format === 'json') {
      line = JSON.stringify({ time, level, msg, ...all }, jsonReplacer);
    } else {
      line = `${time} ${level.toUpperCase().padEnd(5)} ${msg}`;
      for (const [k, v] of Object.entries(all)) if (v !== undefined) line += ` ${k}=${textValue(v)}`;
    }
    try {
      this.sink(line);
    } catch {
      // A broken log sink must never take the controller down.
    }
  }
}

/** Creates a logger; with no options: level info, JSON lines on stderr. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const format = opts.format ?? 'json';
  if (format !== 'json' && format !== 'text') throw new LogConfigError(`unknown log format '${String(format)}'`);
  const level = opts.level ?? 'info';
  if (!Object.hasOwn(RANK, level)) throw new LogConfigError(`unknown log level '${String(level)}'`);
  const sink = opts.sink ?? ((line: string) => void process.stderr.write(`${line}\n`));
  return new LineLogger(level, format, sink, opts.fields ?? {}, opts.now ?? Date.now);
}

/** A logger that writes nothing. */
export const silentLogger: Logger = createLogger({ level: 'silent', sink: () => {} });
