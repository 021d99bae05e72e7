/**
 * The live fabric graph: switches, their ports, and the switch-to-switch links
 * LLDP discovered. Pure: fed `(now, event)` by the discovery app
 * (./discovery.ts), no sockets or timers. The L2 fabric reads it
 * (`path`, `treePorts`, `portClass`) and listens to its change events.
 *
 * A port is in one of four classes:
 *   down     link down, administratively down, or the switch is gone
 *   pending  up, but LLDP has not had time to tell what is behind it: the L2
 *            fabric sends nothing out of it and drops what comes in, so a
 *            looped graph is never flooded before it is known
 *   link     our LLDP probe from another of our switches arrived on it
 *   edge     up for `classifyMs` with no probe: hosts, VMs, foreign devices
 *
 * Links expire when no probe refreshed them for `linkTimeoutMs`, and go at once
 * when either end's port goes down or its switch disconnects.
 */
import type { PortInfo } from '../app.js';
import * as C from '../openflow/constants.js';

export type PortClass = 'down' | 'pending' | 'link' | 'edge';

export interface LinkEnd {
  readonly dpid: bigint;
  readonly port: number;
}

/** An undirected switch-to-switch link; `a` is the end with the lower (dpid, port). */
export interface Link {
  readonly a: LinkEnd;
  readonly b: LinkEnd;
  /** `now` of the probe that found it. */
  readonly since: number;
}

/** One hop of a path: leave switch `dpid` through `outPort`. */
export interface Hop {
  readonly dpid: bigint;
  readonly outPort: number;
}

export type TopologyChange =
  | { readonly kind: 'switch-up'; readonly dpid: bigint }
  | { readonly kind: 'switch-down'; readonly dpid: bigint }
  | { readonly kind: 'link-up'; readonly link: Link }
  | { readonly kind: 'link-down'; readonly link: Link; readonly reason: LinkDownReason }
  /** Ports changed class without a link changing (pending -> edge, edge port down). */
  | { readonly kind: 'ports'; readonly dpid: bigint; readonly ports: readonly number[] };

/** Why a link went away; shown in logs. */
export type LinkDownReason = 'port-down' | 'port-deleted' | 'switch-down' | 'lldp-timeout' | 'moved';

export interface GraphOptions {
  /** A port up this long without a probe is an edge port, ms (default 2500). */
  readonly classifyMs?: number;
  /** A link not refreshed by a probe for this long goes down, ms (default 3500). */
  readonly linkTimeoutMs?: number;
  /**
   * Port names the operator declared host-facing (the inventory's VM taps, host
   * and sink ports): such a port is an edge port as soon as it is up, without the
   * `classifyMs` wait. A VM restored or migrated onto another switch gets a new
   * port there; waiting 2.5 s would drop its first answers (a client's SYN-ACK)
   * in the L2 fabric. An LLDP probe arriving on it still makes it a link port.
   */
  readonly hostPorts?: (name: string) => boolean;
}

export class TopologyConfigError extends Error {
  readonly code = 'ERR_TOPOLOGY_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'TopologyConfigError';
  }
}

interface PortState {
  up: boolean;
  /** `now` when the port last came up (classification clock). */
  upSince: number;
  /** Set once `classifyMs` passed without a probe while up. */
  edge: boolean;
  /**
   * A probe arrived here since the port last came up. Such a port never turns
   * into an edge port by waiting when its link goes: a switch may still be behind
   * it (its probes lost, or its controller connection down), and flooding into it
   * could close a loop. Only a port flap (down, up) starts its classification over.
   */
  wasLink: boolean;
}

interface LinkState {
  link: Link;
  seen: number;
}

const endKey = (dpid: bigint, port: number): string => `${dpid.toString(16)}/${port}`;

/** Physical ports only: LOCAL, CONTROLLER and the other reserved numbers carry no links or hosts (OF 1.3.5 §4.4). */
export function isPhysicalPort(port: number): boolean {
  return port >= 1 && port <= C.OFPP_MAX;
}

export class TopologyGraph {
  readonly classifyMs: number;
  readonly linkTimeoutMs: number;
  private readonly hostPorts: (name: string) => boolean;
  private readonly switches = new Map<bigint, Map<number, PortState>>();
  /** Both ends of each link, keyed by end: the link it belongs to. */
  private readonly byEnd = new Map<string, LinkState>();
  private readonly listeners: Array<(c: TopologyChange) => void> = [];
  /** Spanning tree cache: dpid -> its tree ports; rebuilt on the first read after a change. */
  private tree: Map<bigint, Set<number>> | undefined;

  constructor(opts: GraphOptions = {}) {
    const int = (name: string, v: number | undefined, d: number): number => {
      if (v === undefined) return d;
      if (!Number.isInteger(v) || v < 1 || v > 3_600_000) throw new TopologyConfigError(`${name} must be an integer in [1, 3600000] ms, got ${v}`);
      return v;
    };
    this.classifyMs = int('classifyMs', opts.classifyMs, 2500);
    this.linkTimeoutMs = int('linkTimeoutMs', opts.linkTimeoutMs, 3500);
    this.hostPorts = opts.hostPorts ?? (() => false);
  }

  /** Calls `fn` for every change, after the graph is updated. Returns an unsubscribe function. */
  onChange(fn: (c: TopologyChange) => void): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  // --- events ---

  /** A switch (re)connected with these ports: all up ports start pending; links it had are gone. */
  switchUp(now: number, dpid: bigint, ports: Iterable<PortInfo>): void {
    if (this.switches.has(dpid)) this.dropSwitch(dpid, 'switch-down');
    const m = new Map<number, PortState>();
    const declared: number[] = [];
    for (const p of ports) {
      if (!isPhysicalPort(p.portNo)) continue;
      const edge = p.up && this.hostPorts(p.name);
      if (edge) declared.push(p.portNo);
      m.set(p.portNo, { up: p.up, upSince: now, edge, wasLink: false });
    }
    this.switches.set(dpid, m);
    this.emit({ kind: 'switch-up', dpid });
    if (declared.length > 0) this.emit({ kind: 'ports', dpid, ports: declared });
  }

  switchDown(dpid: bigint): void {
    if (!this.switches.has(dpid)) return;
    this.dropSwitch(dpid, 'switch-down');
    this.emit({ kind: 'switch-down', dpid });
  }

  /**
   * A PORT_STATUS: `up` false for link down, admin down; `deleted` for OFPPR_DELETE.
   * `name`: the port's name, for declared host ports (GraphOptions.hostPorts).
   */
  portStatus(now: number, dpid: bigint, port: number, up: boolean, deleted: boolean, name?: string): void {
    const sw = this.switches.get(dpid);
    if (sw === undefined || !isPhysicalPort(port)) return;
    const st = sw.get(port);
    if (deleted || !up) {
      const wasEdge = st?.up === true && st.edge;
      if (deleted) sw.delete(port);
      else if (st !== undefined) {
        st.up = false;
        st.edge = false;
        st.wasLink = false;
      } else sw.set(port, { up: false, upSince: now, edge: false, wasLink: false });
      if (!this.removeLinkAt(dpid, port, deleted ? 'port-deleted' : 'port-down') && wasEdge) this.emit({ kind: 'ports', dpid, ports: [port] });
      return;
    }
    const declared = name !== undefined && this.hostPorts(name);
    if (st === undefined) sw.set(port, { up: true, upSince: now, edge: declared, wasLink: false });
    else if (!st.up) {
      st.up = true;
      st.upSince = now;
      st.edge = declared;
      st.wasLink = false;
    } else return;
    if (declared) this.emit({ kind: 'ports', dpid, ports: [port] });
  }

  /**
   * Our probe sent out of (`from.dpid`, `from.port`) arrived on (`dpid`, `port`).
   * Adds or refreshes that link. Returns true when the link is new.
   */
  probeReceived(now: number, from: LinkEnd, dpid: bigint, port: number): boolean {
    const to: LinkEnd = { dpid, port };
    const a = this.portState(from.dpid, from.port);
    const b = this.portState(dpid, port);
    // A probe from a switch or port we do not know (not up yet, or a stale probe
    // from before a reconnect) cannot make a link: both ends must be live ports.
    if (a?.up !== true || b?.up !== true) return false;
    if (from.dpid === dpid && from.port === port) return false; // a port looped onto itself
    const existing = this.byEnd.get(endKey(dpid, port));
    if (existing !== undefined && sameLink(existing.link, from, to)) {
      existing.seen = now;
      return false;
    }
    // Either end was linked elsewhere: that link is stale (re-cabled).
    this.removeLinkAt(from.dpid, from.port, 'moved');
    this.removeLinkAt(dpid, port, 'moved');
    const [x, y] = cmpEnd(from, to) <= 0 ? [from, to] : [to, from];
    const st: LinkState = { link: { a: x, b: y, since: now }, seen: now };
    this.byEnd.set(endKey(x.dpid, x.port), st);
    this.byEnd.set(endKey(y.dpid, y.port), st);
    a.edge = false;
    b.edge = false;
    a.wasLink = true;
    b.wasLink = true;
    this.tree = undefined;
    this.emit({ kind: 'link-up', link: st.link });
    return true;
  }

  /** Time passes: links without a fresh probe go down, pending ports old enough become edge ports. */
  tick(now: number): void {
    for (const st of new Set(this.byEnd.values())) {
      if (now - st.seen > this.linkTimeoutMs) this.removeLinkAt(st.link.a.dpid, st.link.a.port, 'lldp-timeout');
    }
    for (const [dpid, ports] of this.switches) {
      const changed: number[] = [];
      for (const [no, p] of ports) {
        if (p.up && !p.edge && !p.wasLink && !this.byEnd.has(endKey(dpid, no)) && now - p.upSince >= this.classifyMs) {
          p.edge = true;
          changed.push(no);
        }
      }
      if (changed.length > 0) this.emit({ kind: 'ports', dpid, ports: changed });
    }
  }

  // --- queries ---

  /** Connected switches, ascending. */
  dpids(): bigint[] {
    return [...this.switches.keys()].sort(cmpBig);
  }

  hasSwitch(dpid: bigint): boolean {
    return this.switches.has(dpid);
  }

  /** Every live link once, sorted by (a, b). */
  links(): Link[] {
    return [...new Set([...this.byEnd.values()].map((s) => s.link))].sort((x, y) => cmpEnd(x.a, y.a) || cmpEnd(x.b, y.b));
  }

  /** The other end of the link on (`dpid`, `port`), if that port is a link port. */
  peer(dpid: bigint, port: number): LinkEnd | undefined {
    const st = this.byEnd.get(endKey(dpid, port));
    if (st === undefined) return undefined;
    const { a, b } = st.link;
    return a.dpid === dpid && a.port === port ? b : a;
  }

  portClass(dpid: bigint, port: number): PortClass {
    const p = this.portState(dpid, port);
    if (p === undefined || !p.up) return 'down';
    if (this.byEnd.has(endKey(dpid, port))) return 'link';
    return p.edge ? 'edge' : 'pending';
  }

  isEdgePort(dpid: bigint, port: number): boolean {
    return this.portClass(dpid, port) === 'edge';
  }

  /** The switch's physical ports, ascending (any class). */
  ports(dpid: bigint): number[] {
    return [...(this.switches.get(dpid)?.keys() ?? [])].sort((x, y) => x - y);
  }

  /**
   * Ports of `dpid` on the spanning tree: a breadth-first tree from the lowest
   * dpid of each connected component, over live links, taking neighbours in
   * (dpid, port) order so every run picks the same tree. Parallel links between
   * two switches: only the first is on the tree.
   */
  treePorts(dpid: bigint): ReadonlySet<number> {
    this.tree ??= this.buildTree();
    return this.tree.get(dpid) ?? EMPTY;
  }

  /**
   * A shortest path (fewest links) from switch `from` to switch `to`: the hops
   * to take, one per switch before `to` ([] when from === to); undefined when
   * `to` cannot be reached. Ties go to the lower (dpid, port), so it is stable.
   */
  path(from: bigint, to: bigint): Hop[] | undefined {
    if (!this.switches.has(from) || !this.switches.has(to)) return undefined;
    if (from === to) return [];
    const via = new Map<bigint, Hop>(); // switch -> the hop that reached it
    const queue = [from];
    const seen = new Set([from]);
    while (queue.length > 0) {
      const cur = queue.shift()!;
      for (const [port, nb] of this.neighbours(cur)) {
        if (seen.has(nb.dpid)) continue;
        seen.add(nb.dpid);
        via.set(nb.dpid, { dpid: cur, outPort: port });
        if (nb.dpid === to) {
          const hops: Hop[] = [];
          for (let at = to; at !== from; ) {
            const h = via.get(at)!;
            hops.unshift(h);
            at = h.dpid;
          }
          return hops;
        }
        queue.push(nb.dpid);
      }
    }
    return undefined;
  }

  // --- internals ---

  private portState(dpid: bigint, port: number): PortState | undefined {
    return this.switches.get(dpid)?.get(port);
  }

  /** Live links of `dpid` as (local port, far end), by local port. */
  private neighbours(dpid: bigint): Array<[number, LinkEnd]> {
    const out: Array<[number, LinkEnd]> = [];
    for (const port of this.ports(dpid)) {
      const far = this.peer(dpid, port);
      if (far !== undefined) out.push([port, far]);
    }
    return out;
  }

  private buildTree(): Map<bigint, Set<number>> {
    const tree = new Map<bigint, Set<number>>();
    const seen = new Set<bigint>();
    const add = (d: bigint, p: number) => {
      let s = tree.get(d);
      if (s === undefined) tree.set(d, (s = new Set()));
      s.add(p);
    };
    for (const root of this.dpids()) {
      if (seen.has(root)) continue;
      seen.add(root);
      const queue = [root];
      while (queue.length > 0) {
        const cur = queue.shift()!;
        for (const [port, far] of this.neighbours(cur)) {
          if (seen.has(far.dpid)) continue;
          seen.add(far.dpid);
          add(cur, port);
          add(far.dpid, far.port);
          queue.push(far.dpid);
        }
      }
    }
    return tree;
  }

  /** Removes the link on (`dpid`, `port`), if any; true when one was removed. */
  private removeLinkAt(dpid: bigint, port: number, reason: LinkDownReason): boolean {
    const st = this.byEnd.get(endKey(dpid, port));
    if (st === undefined) return false;
    const { a, b } = st.link;
    this.byEnd.delete(endKey(a.dpid, a.port));
    this.byEnd.delete(endKey(b.dpid, b.port));
    // Both ends that are still up stay pending (wasLink): blocked until a probe
    // finds the link again or the port flaps.
    this.tree = undefined;
    this.emit({ kind: 'link-down', link: st.link, reason });
    return true;
  }

  private dropSwitch(dpid: bigint, reason: LinkDownReason): void {
    for (const port of this.ports(dpid)) this.removeLinkAt(dpid, port, reason);
    this.switches.delete(dpid);
    this.tree = undefined;
  }

  private emit(c: TopologyChange): void {
    if (c.kind !== 'ports') this.tree = undefined;
    for (const fn of [...this.listeners]) fn(c);
  }
}

const EMPTY: ReadonlySet<number> = new Set();

function cmpBig(x: bigint, y: bigint): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

function cmpEnd(x: LinkEnd, y: LinkEnd): number {
  return cmpBig(x.dpid, y.dpid) || x.port - y.port;
}

function sameLink(l: Link, p: LinkEnd, q: LinkEnd): boolean {
  const eq = (x: LinkEnd, y: LinkEnd) => x.dpid === y.dpid && x.port === y.port;
  return (eq(l.a, p) && eq(l.b, q)) || (eq(l.a, q) && eq(l.b, p));
}
