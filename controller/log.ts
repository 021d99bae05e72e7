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

/** Options of rateLimited(). */
export interface RateLimitOptions {
  /** Records per key written in each window; later ones in that window are only counted. Default 10. */
  readonly burst?: number;
  /** Window length in ms. Default 60000. */
  readonly windowMs?: number;
  /** Time source in ms (inject a fake clock's now in tests). Default Date.now. */
  readonly now?: () => number;
  /** Levels that are limited; the others pass straight through. Default warn and error. */
  readonly levels?: readonly LogLevel[];
  /** Fields whose values, with the level and message, make the key of "similar" records. Default code and reason. */
  readonly keyFields?: readonly string[];
  /** Most keys tracked at once; past it the oldest windows are closed (their summaries written). Default 256. */
  readonly maxKeys?: number;
}

/** A Logger that writes the first `burst` similar records per window and counts the rest. */
export interface RateLimitedLogger extends Logger {
  /** Records suppressed so far (all keys, all windows). */
  readonly suppressedTotal: number;
  /** Writes the summary of every window whose time is up and that suppressed something. */
  sweep(): void;
  /** Writes every pending summary now (e.g. when the switch disconnects). */
  flushSuppressed(): void;
  child(fields: LogFields): RateLimitedLogger;
}

interface LimitWindow {
  start: number;
  written: number;
  suppressed: number;
  readonly level: LogLevel;
  readonly msg: string;
  /** The logger and key fields of the first record, so the summary names the same switch and reason. */
  readonly out: Logger;
  readonly keyValues: LogFields;
}

interface LimitState {
  readonly burst: number;
  readonly windowMs: number;
  readonly now: () => number;
  readonly levels: ReadonlySet<LogLevel>;
  readonly keyFields: readonly string[];
  readonly maxKeys: number;
  readonly windows: Map<string, LimitWindow>;
  suppressedTotal: number;
}

function limitInt(name: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (!Number.isSafeInteger(n) || n <= 0) throw new LogConfigError(`${name} must be a positive integer, got ${n}`);
  return n;
}

class LimitedLogger implements RateLimitedLogger {
  constructor(
    private readonly base: Logger,
    private readonly s: LimitState,
  ) {}

  get level(): LogLevel | 'silent' {
    return this.base.level;
  }
  get suppressedTotal(): number {
    return this.s.suppressedTotal;
  }
  enabled(level: LogLevel): boolean {
    return this.base.enabled(level);
  }
  debug(msg: string, fields?: LogFields): void {
    this.record('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.record('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.record('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.record('error', msg, fields);
  }

  child(fields: LogFields): RateLimitedLogger {
    // Shares the windows: a connection that learns its datapath id keeps counting the same reasons.
    return new LimitedLogger(this.base.child(fields), this.s);
  }

  sweep(): void {
    const now = this.s.now();
    for (const [key, w] of this.s.windows) {
      if (now - w.start < this.s.windowMs) continue;
      this.summarise(w);
      this.s.windows.delete(key);
    }
  }

  flushSuppressed(): void {
    for (const w of this.s.windows.values()) this.summarise(w);
    this.s.windows.clear();
  }

  private record(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    if (!this.base.enabled(level)) return;
    if (!this.s.levels.has(level)) {
      this.base[level](msg, fields);
      return;
    }
    const keyValues: Record<string, unknown> = {};
    let key = `${level}\u0000${msg}`;
    for (const f of this.s.keyFields) {
      const v = fields?.[f];
      if (v === undefined) continue;
      keyValues[f] = v;
      key += `\u0000${f}=${String(v)}`;
    }
    const now = this.s.now();
    let w = this.s.windows.get(key);
    if (w !== undefined && now - w.start >= this.s.windowMs) {
      // A new window: report what the old one held back, then start counting again.
      this.summarise(w);
      w.start = now;
      w.written = 0;
    }
    if (w === undefined) {
      if (this.s.windows.size >= this.s.maxKeys) this.evictOldest();
      w = { start: now, written: 0, suppressed: 0, level, msg, out: this.base, keyValues };
      this.s.windows.set(key, w);
    }
    if (w.written < this.s.burst) {
      w.written += 1;
      this.base[level](msg, fields);
      return;
    }
    w.suppressed += 1;
    this.s.suppressedTotal += 1;
  }

  private evictOldest(): void {
    const first = this.s.windows.entries().next();
    if (first.done === true) return;
    this.summarise(first.value[1]);
    this.s.windows.delete(first.value[0]);
  }

  private summarise(w: LimitWindow): void {
    if (w.suppressed === 0) return;
    w.out[w.level](`suppressed ${w.suppressed} similar warnings`, {
      suppressed: w.suppressed,
      like: w.msg,
      ...w.keyValues,
      windowMs: this.s.windowMs,
    });
    w.suppressed = 0;
  }
}

/**
 * Wraps `base` so that a flood of similar records (same level, message and key
 * fields) costs at most `burst` lines per window plus one summary line
 * "suppressed K similar warnings". Summaries are written when the key's next
 * window starts, on sweep() for windows whose time is up, and on
 * flushSuppressed(); no timers of its own, so it runs on any injected clock.
 * Give each switch connection its own instance: the limit is then per switch
 * and reason, and one noisy switch cannot silence another's warnings.
 */
export function rateLimited(base: Logger, opts: RateLimitOptions = {}): RateLimitedLogger {
  return new LimitedLogger(base, {
    burst: limitInt('burst', opts.burst, 10),
    windowMs: limitInt('windowMs', opts.windowMs, 60_000),
    now: opts.now ?? Date.now,
    levels: new Set(opts.levels ?? ['warn', 'error']),
    keyFields: opts.keyFields ?? ['code', 'reason'],
    maxKeys: limitInt('maxKeys', opts.maxKeys, 256),
    windows: new Map(),
    suppressedTotal: 0,
  });
}
