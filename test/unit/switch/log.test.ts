// controller/log.ts: levels, JSON and text lines, child fields.
import test from 'ava';
import { createLogger, LogConfigError, parseLogLevel, rateLimited } from '../../../controller/log.js';

const at = (): number => Date.UTC(2024, 0, 2, 3, 4, 5, 678);

test('JSON lines carry time, level, msg and fields; bigint, Buffer and Error are printable', (t) => {
  const lines: string[] = [];
  const log = createLogger({ sink: (l) => lines.push(l), now: at, fields: { svc: 'ctl' } });
  const err = Object.assign(new Error('nope'), { code: 'E_X' });
  log.info('switch up', { dpid: 0xabn, data: Buffer.from([1, 2]), err });
  t.deepEqual(JSON.parse(lines[0]!), {
    time: '2024-01-02T03:04:05.678Z',
    level: 'info',
    msg: 'switch up',
    svc: 'ctl',
    dpid: '171',
    data: '0102',
    err: { error: 'Error', message: 'nope', code: 'E_X' },
  });
});

test('records below the level are dropped; enabled() says so', (t) => {
  const lines: string[] = [];
  const log = createLogger({ level: 'warn', sink: (l) => lines.push(l) });
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
  t.deepEqual(lines.map((l) => (JSON.parse(l) as { msg: string }).msg), ['w', 'e']);
  t.false(log.enabled('info'));
  t.true(log.enabled('error'));
  const silent = createLogger({ level: 'silent', sink: (l) => lines.push(l) });
  silent.error('x');
  t.is(lines.length, 2);
});

test('text format and child loggers', (t) => {
  const lines: string[] = [];
  const log = createLogger({ format: 'text', sink: (l) => lines.push(l), now: at }).child({ dpid: '00000000000000ab' });
  log.warn('echo timeout', { idleMs: 15000, why: 'no reply at all' });
  t.is(lines[0], '2024-01-02T03:04:05.678Z WARN  echo timeout dpid=00000000000000ab idleMs=15000 why="no reply at all"');
});

test('bad level or format is a LogConfigError; a throwing sink is contained', (t) => {
  t.is(parseLogLevel('debug'), 'debug');
  t.is(t.throws(() => parseLogLevel('loud'), { instanceOf: LogConfigError })?.code, 'LOG_CONFIG');
  t.throws(() => createLogger({ format: 'xml' as 'json' }), { instanceOf: LogConfigError });
  const log = createLogger({ sink: () => { throw new Error('EPIPE'); } });
  t.notThrows(() => log.error('still fine'));
});

test('rateLimited: keyed by level, message and code; other levels pass; bad options refused', (t) => {
  const lines: Record<string, unknown>[] = [];
  let now = 0;
  const base = createLogger({ level: 'debug', sink: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  const log = rateLimited(base, { burst: 2, windowMs: 100, now: () => now });
  for (let i = 0; i < 5; i += 1) {
    log.warn('bad frame', { code: 'A', i });
    log.warn('bad frame', { code: 'B', i });
    log.info('state', { i });
  }
  t.is(lines.filter((l) => l.msg === 'bad frame' && l.code === 'A').length, 2);
  t.is(lines.filter((l) => l.msg === 'bad frame' && l.code === 'B').length, 2);
  t.is(lines.filter((l) => l.msg === 'state').length, 5, 'info is not limited by default');
  t.is(log.suppressedTotal, 6);
  now = 99;
  log.sweep();
  t.false(lines.some((l) => String(l.msg).startsWith('suppressed')), 'window not over yet');
  now = 100;
  log.sweep();
  t.deepEqual(
    lines.filter((l) => String(l.msg).startsWith('suppressed')).map((l) => [l.code, l.suppressed]),
    [
      ['A', 3],
      ['B', 3],
    ],
  );
  t.throws(() => rateLimited(base, { burst: 0 }), { instanceOf: LogConfigError });
});
