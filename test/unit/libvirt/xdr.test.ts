import test from 'ava';
import fc from 'fast-check';
import { XdrError, XdrReader, XdrWriter } from '../../../controller/libvirt/xdr.js';

test('ints, hypers and bools are big-endian 4/8-byte items (RFC 4506 4.1-4.5)', (t) => {
  const b = new XdrWriter().int(-2).uint(0xdeadbeef).hyper(-1n).uhyper(0x0102030405060708n).bool(true).toBuffer();
  t.is(b.toString('hex'), 'fffffffe' + 'deadbeef' + 'ffffffffffffffff' + '0102030405060708' + '00000001');
  const r = new XdrReader(b);
  t.is(r.int(), -2);
  t.is(r.uint(), 0xdeadbeef);
  t.is(r.hyper(), -1n);
  t.is(r.uhyper(), 0x0102030405060708n);
  t.true(r.bool());
  r.end('test');
});

test('strings carry a length and are zero-padded to 4 bytes (RFC 4506 4.11)', (t) => {
  t.is(new XdrWriter().string('abcde').toBuffer().toString('hex'), '00000005' + '6162636465' + '000000');
  t.is(new XdrWriter().string('abcd').toBuffer().toString('hex'), '00000004' + '61626364');
  t.is(new XdrWriter().string('').toBuffer().toString('hex'), '00000000');
});

test('optional data is a bool then the value (RFC 4506 4.19)', (t) => {
  t.is(new XdrWriter().optional<string>(null, (w, v) => w.string(v)).toBuffer().toString('hex'), '00000000');
  t.is(new XdrWriter().optional('a', (w, v) => w.string(v)).toBuffer().toString('hex'), '00000001' + '00000001' + '61000000');
});

test('fixed opaque must have exactly its size', (t) => {
  t.throws(() => new XdrWriter().fixedOpaque(Buffer.alloc(15), 16), { instanceOf: XdrError });
  t.is(new XdrWriter().fixedOpaque(Buffer.alloc(3, 0xff), 3).toBuffer().toString('hex'), 'ffffff00');
});

test('out-of-range numbers are refused, not wrapped', (t) => {
  t.throws(() => new XdrWriter().int(2 ** 31), { instanceOf: XdrError });
  t.throws(() => new XdrWriter().uint(-1), { instanceOf: XdrError });
  t.throws(() => new XdrWriter().int(1.5), { instanceOf: XdrError });
});

test('truncated input and bad bools are XdrErrors', (t) => {
  t.throws(() => new XdrReader(Buffer.from('000000', 'hex')).int(), { instanceOf: XdrError, message: /truncated/ });
  t.throws(() => new XdrReader(Buffer.from('0000000a6162', 'hex')).string(), { instanceOf: XdrError, message: /truncated/ });
  t.throws(() => new XdrReader(Buffer.from('00000002', 'hex')).bool(), { instanceOf: XdrError });
  t.throws(() => new XdrReader(Buffer.from('0000000100000000', 'hex')).end('x'), { instanceOf: XdrError, message: /trailing/ });
});

test('a length beyond the limit is refused before reading the data', (t) => {
  const r = new XdrReader(Buffer.from('7fffffff', 'hex'));
  t.throws(() => r.opaque(1024), { instanceOf: XdrError, message: /exceeds its limit 1024/ });
});

test('round trip: any sequence of strings and ints decodes to what was encoded', (t) => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string(), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }))), (items) => {
      const w = new XdrWriter(4);
      for (const it of items) {
        if (typeof it === 'string') w.int(1).string(it);
        else w.int(0).int(it);
      }
      const buf = w.toBuffer();
      if (buf.length % 4 !== 0) return false;
      const r = new XdrReader(buf);
      const back = items.map(() => (r.int() === 1 ? r.string() : r.int()));
      r.end('roundtrip');
      t.deepEqual(back, items);
      return true;
    }),
  );
});
