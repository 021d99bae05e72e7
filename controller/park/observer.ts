// What the park engine's shell tells a passive observer (metrics). Everything
// comes from what the machine emitted or what the shell executed for it, so a
// count can never miss a path the machine takes (a failed park, a retried wake).
import type { CountDelta, Output } from './model.js';

/** What the park engine did with a packet-in it consumed. */
export type ParkPacketVerdict = 'park_arp_answered' | 'park_icmp_answered' | 'park_held' | 'park_ignored' | 'park_other';

/** libvirt operations the shell runs: the machine's park/wake and its domain state reads. */
export type LibvirtOpName = 'park' | 'wake' | 'read_state';

export interface ParkObserver {
  /** Every output of every step, before it is executed. */
  output?(o: Output): void;
  /** Every counter a step moved. */
  counted?(d: CountDelta): void;
  /** A packet-in the engine consumed, with what it did (from the counters the step moved). */
  packetIn?(verdict: ParkPacketVerdict): void;
  /** A libvirt operation finished: its duration, and the error code when it failed ('unknown' without one). */
  libvirtOp?(op: LibvirtOpName, seconds: number, errorCode: string | undefined): void;
}

/**
 * The verdict of a consumed packet-in from the counters its step moved: an
 * answered ARP/ICMP, a held packet (or one dropped because the hold queue was
 * full: it was meant to be held), an ignored one; anything else (probe answers,
 * stale park entries forwarded, packets during the flow switch) is park_other.
 */
export function packetVerdict(counts: readonly CountDelta[]): ParkPacketVerdict {
  for (const d of counts) {
    switch (d.key) {
      case 'arpAnswered':
        return 'park_arp_answered';
      case 'icmpAnswered':
        return 'park_icmp_answered';
      case 'held':
      case 'heldDropped':
        return 'park_held';
      case 'ignored':
        return 'park_ignored';
      default:
        break;
    }
  }
  return 'park_other';
}
