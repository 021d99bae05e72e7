// DOMAIN_MEMORY_STATS (remote procedure 159): args and reply codec, and the
// RSS reader built on it (controller/energy/memory.ts libvirtRssReader).
import test from 'ava';
import { libvirtRssReader } from '../../../controller/energy/memory.js';
import { decodeMemoryStatsRet, encodeMemoryStatsArgs, Proc, REMOTE_DOMAIN_MEMORY_STATS_MAX } from '../../../controller/libvirt/protocol.js';
import { XdrReader, XdrWriter } from '../../../controller/libvirt/xdr.js';

const dom = { name: 'vm1', uuid: Buffer.alloc(16, 7), id: 3 };

test('procedure number and args: domain, maxStats, flags', (t) => {
  t.is(Proc.DOMAIN_MEMORY_STATS, 159);
  const r = new XdrReader(encodeMemoryStatsArgs(dom, 13, 0));
  t.is(r.string(), 'vm1');
  t.deepEqual(r.fixedOpaque(16), dom.uuid);
  t.is(r.int(), 3);
  t.is(r.uint(), 13);
  t.is(r.uint(), 0);
  r.end('args');
});

test('reply: stats by name (KiB), unknown tags kept by number, an over-long array refused', (t) => {
  const w = new XdrWriter().uint(3).int(7).uhyper(235_520n).int(6).uhyper(131_072n).int(42).uhyper(1n);
  t.deepEqual(
    [...decodeMemoryStatsRet(w.toBuffer())],
    [
      ['rss', 235_520n],
      ['actual_balloon', 131_072n],
      ['tag_42', 1n],
    ],
  );
  t.throws(() => decodeMemoryStatsRet(new XdrWriter().uint(REMOTE_DOMAIN_MEMORY_STATS_MAX + 1).toBuffer()), { message: /more than 1024/ });
});

test('libvirt RSS reader: rss in bytes; a shut-off domain has none; no rss stat is unmeasured', async (t) => {
  let state: 'running' | 'shutoff' = 'running';
  let stats = new Map([['rss', 1000n]]);
  const read = libvirtRssReader({ getState: async () => ({ state, hasManagedSave: false }), memoryStats: async () => stats });
  t.is(await read('qemu+ssh://h/system', 'vm1'), 1000 * 1024);
  stats = new Map([['actual_balloon', 5n]]);
  t.is(await read('qemu+ssh://h/system', 'vm1'), undefined);
  state = 'shutoff';
  t.is(await read('qemu+ssh://h/system', 'vm1'), 0);
  t.is(await libvirtRssReader({ getState: async () => ({ state: 'running', hasManagedSave: false }) })('x', 'vm1'), undefined);
});
