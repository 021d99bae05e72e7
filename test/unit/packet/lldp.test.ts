import test from 'ava';
import { buildLldpProbe, ETH_TYPE_LLDP, LLDP_MULTICAST, LldpError, parseLldp } from '../../../controller/packet/index.js';

const PROBE = { controllerId: 'ctl-1', dpid: 0x0000_0000_0000_00abn, port: 7 };

test('lldp: a probe round-trips: controller id, dpid, port, TTL, source MAC', (t) => {
  const f = buildLldpProbe(PROBE, '02:00:00:00:00:07', 4);
  t.is(f.readUInt16BE(12), ETH_TYPE_LLDP);
  t.is(f.subarray(0, 6).toString('hex'), LLDP_MULTICAST.replaceAll(':', ''));
  t.true(f.length >= 60, 'padded to the Ethernet minimum');
  t.deepEqual(parseLldp(f), { kind: 'probe', src: '02:00:00:00:00:07', probe: PROBE, ttlSec: 4 });
});

test('lldp: a large dpid and port survive', (t) => {
  const probe = { controllerId: 'x', dpid: 0xffff_ffff_ffff_fffen, port: 0xffffff00 };
  const p = parseLldp(buildLldpProbe(probe, '02:00:00:00:00:01', 1));
  t.deepEqual(p?.kind === 'probe' ? p.probe : undefined, probe);
});

/** An LLDP frame as a real device sends it: chassis id subtype 4 (MAC), port id subtype 5 (interface name). */
function deviceLldp(): Buffer {
  const tlvs = [
    [1, Buffer.from([4, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55])],
    [2, Buffer.concat([Buffer.of(5), Buffer.from('eth0')])],
    [3, Buffer.from([0, 120])],
    [0, Buffer.alloc(0)],
  ] as const;
  const body = Buffer.concat(tlvs.map(([type, v]) => Buffer.concat([Buffer.from([(type << 1) | (v.length >> 8), v.length & 0xff]), v])));
  const eth = Buffer.alloc(14);
  Buffer.from('0180c200000e001122334455', 'hex').copy(eth);
  eth.writeUInt16BE(ETH_TYPE_LLDP, 12);
  return Buffer.concat([eth, body]);
}

test('lldp: frames from real devices and other controllers are foreign', (t) => {
  const dev = parseLldp(deviceLldp());
  t.is(dev?.kind, 'foreign');
  // Another seamless controller's probe parses as a probe; its id tells it apart (discovery checks it).
  const other = parseLldp(buildLldpProbe({ ...PROBE, controllerId: 'other' }, '02:00:00:00:00:01', 4));
  t.is(other?.kind === 'probe' ? other.probe.controllerId : undefined, 'other');
  // Our subtype but not our format.
  const f = buildLldpProbe(PROBE, '02:00:00:00:00:07', 4);
  f.write('X', 16 + 1, 'latin1'); // "Xeamless:..."
  t.is(parseLldp(f)?.kind, 'foreign');
});

test('lldp: malformed frames parse to undefined, never throw', (t) => {
  const good = buildLldpProbe(PROBE, '02:00:00:00:00:07', 4);
  t.is(parseLldp(good.subarray(0, 13)), undefined);
  t.is(parseLldp(good.subarray(0, 20)), undefined, 'TLV runs past the end');
  const noTtl = Buffer.from(good);
  noTtl[14 + 2 + good[15]! + 2 + good[14 + 2 + good[15]! + 1]!] = 0; // TTL TLV type -> End
  t.is(parseLldp(noTtl), undefined, 'the mandatory TTL is missing');
  const notLldp = Buffer.from(good);
  notLldp.writeUInt16BE(0x0800, 12);
  t.is(parseLldp(notLldp), undefined);
  for (let i = 0; i < 2000; i++) {
    const junk = Buffer.from(good);
    junk[14 + (i % (junk.length - 14))] = (i * 131) & 0xff;
    t.notThrows(() => parseLldp(junk));
  }
});

test('lldp: a controller id that would break the chassis id is refused, naming it', (t) => {
  t.throws(() => buildLldpProbe({ ...PROBE, controllerId: 'a:b' }, '02:00:00:00:00:01', 1), { instanceOf: LldpError, message: /"a:b"/ });
  t.throws(() => buildLldpProbe({ ...PROBE, controllerId: '' }, '02:00:00:00:00:01', 1), { instanceOf: LldpError });
});
