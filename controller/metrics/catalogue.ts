// The closed label values of the metric catalogue (docs/operations.md, "Metrics").
import type { DisconnectReason } from '../app.js';
import { DEPTHS } from '../inventory/types.js';
import type { Phase } from '../park/model.js';
import type { LibvirtOpName, ParkPacketVerdict } from '../park/observer.js';

export const PHASES: readonly Phase[] = ['unknown', 'active', 'parking', 'parked', 'waking', 'wake_failed'];
export { DEPTHS };
export type PacketVerdict = ParkPacketVerdict | 'l2';
export const VERDICTS: readonly PacketVerdict[] = ['park_arp_answered', 'park_icmp_answered', 'park_held', 'park_ignored', 'park_other', 'l2'];
export const LIBVIRT_OPS: readonly LibvirtOpName[] = ['park', 'wake', 'read_state'];
export const DISCONNECT_REASONS: readonly DisconnectReason[] = [
  'socket-closed',
  'socket-error',
  'hello-failed',
  'handshake-timeout',
  'handshake-error',
  'echo-timeout',
  'decode-error',
  'replaced',
  'send-overflow',
  'multipart-overflow',
  'too-many-ports',
  'controller-stopped',
];

/**
 * Wake duration buckets (seconds): 1 ms steps up to 10 ms resolve a pause wake
 * (~5 ms through the fast path, ~25 ms through virsh), 0.4/0.5/0.6 resolve a
 * managedsave restore (~0.5 s), the tail reaches a cold boot and the wake timeout.
 */
export const WAKE_BUCKETS = [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 1, 1.5, 2.5, 5, 10, 30];
/** libvirt operation buckets (seconds): a resume (~ms) to a managedsave of a large guest (tens of s). */
export const LIBVIRT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Echo round trip buckets (seconds): loopback (<1 ms) to the echo timeout's order (15 s). */
export const ECHO_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15];
