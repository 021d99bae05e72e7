// Messages a test plays as the switch (ports, FEATURES_REPLY), shared by the
// switch-connection unit tests and the integration tests that drive a real
// controller with a scripted switch.
import type { Msg } from '../../controller/app.js';
import { OFPPC_PORT_DOWN, OFPPS_LINK_DOWN } from '../../controller/openflow/index.js';
import type { OfpPort } from '../../controller/openflow/index.js';

/** An ofp_port (OF 1.3.5 §7.2.1) with a MAC derived from its number; `down` sets OFPPC_PORT_DOWN, `linkDown` OFPPS_LINK_DOWN. */
export function port(portNo: number, name: string, opts: { down?: boolean; linkDown?: boolean } = {}): OfpPort {
  return {
    portNo,
    hwAddr: `02:00:00:00:00:${(portNo & 0xff).toString(16).padStart(2, "0")}`,
    name,
    config: opts.down === true ? OFPPC_PORT_DOWN : 0,
    state: opts.linkDown === true ? OFPPS_LINK_DOWN : 0,
    curr: 0,
    advertised: 0,
    supported: 0,
    peer: 0,
    currSpeed: 0,
    maxSpeed: 0,
  };
}

/** A FEATURES_REPLY (§7.3.1) for `datapathId` answering request `xid`. */
export function featuresReply(xid: number, datapathId: bigint): Msg<'features_reply'> {
  return { type: 'features_reply', xid, datapathId, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x4f, reserved: 0 };
}
