/**
 * Runs the apps' handlers for switch events, in app order, isolating failures:
 * a throwing (or rejecting) handler is logged and the next app still runs.
 */
import type { App, Datapath, DisconnectReason, Msg } from '../app.js';
import { rateLimited, type Logger } from '../log.js';

export class AppDispatcher {
  /**
   * An app that throws on every packet-in would write one error line per packet:
   * repeated errors are limited per app and switch (first 10 per minute, then a
   * "suppressed K similar warnings" summary).
   */
  private readonly log: Logger;

  /** `now` is the time source of the log rate limit (inject a fake clock's in tests). */
  constructor(
    readonly apps: readonly App[],
    log: Logger,
    now: () => number = Date.now,
  ) {
    this.log = rateLimited(log, { keyFields: ['app', 'dpid'], now });
  }

  /** Offers the packet to each app in order until one returns true (consumed). Returns that app's name. */
  packetIn(dp: Datapath, msg: Msg<'packet_in'>): string | undefined {
    for (const app of this.apps) {
      if (app.packetIn === undefined) continue;
      try {
        if (app.packetIn(dp, msg) === true) return app.name;
      } catch (e) {
        this.log.error('app packetIn threw', { app: app.name, dpid: dp.idHex, err: e });
      }
    }
    return undefined;
  }

  /**
   * Calls each app's switchUp in order, awaiting each so an app can rely on the
   * ones before it having installed their flows. Resolves when all are done.
   */
  async switchUp(dp: Datapath): Promise<void> {
    for (const app of this.apps) {
      if (app.switchUp === undefined) continue;
      try {
        await app.switchUp(dp);
      } catch (e) {
        this.log.error('app switchUp failed', { app: app.name, dpid: dp.idHex, err: e });
      }
    }
  }

  switchDown(dp: Datapath, reason: DisconnectReason): void {
    for (const app of this.apps) this.each(app, 'switchDown', () => app.switchDown?.(dp, reason), dp);
  }

  portStatus(dp: Datapath, msg: Msg<'port_status'>): void {
    for (const app of this.apps) this.each(app, 'portStatus', () => app.portStatus?.(dp, msg), dp);
  }

  flowRemoved(dp: Datapath, msg: Msg<'flow_removed'>): void {
    for (const app of this.apps) this.each(app, 'flowRemoved', () => app.flowRemoved?.(dp, msg), dp);
  }

  error(dp: Datapath, msg: Msg<'error'>): void {
    for (const app of this.apps) this.each(app, 'error', () => app.error?.(dp, msg), dp);
  }

  /** Stops every app (in reverse order, so later apps stop before the ones they build on). */
  async stop(): Promise<void> {
    for (const app of [...this.apps].reverse()) {
      if (app.stop === undefined) continue;
      try {
        await app.stop();
      } catch (e) {
        this.log.error('app stop failed', { app: app.name, err: e });
      }
    }
  }

  private each(app: App, what: string, fn: () => void, dp: Datapath): void {
    try {
      fn();
    } catch (e) {
      this.log.error(`app ${what} threw`, { app: app.name, dpid: dp.idHex, err: e });
    }
  }
}
