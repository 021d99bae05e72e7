/**
 * The controller daemon: the OpenFlow listener (TCP or mutual TLS), the
 * datapath registry (one SwitchConnection per socket; a datapath id that
 * connects again replaces its old connection; auxiliary connections feed
 * their packet-ins to the apps through the main one) and the apps. The CLI's
 * `seamless controller` is a thin shell over startController().
 */
import type { App, Datapath } from './app.js';
import { createLogger, type Logger } from './log.js';
import { AppDispatcher } from './switch/apps.js';
import { resolveConnectionConfig, type ConnectionConfig, type ConnectionObserver } from './switch/connection.js';
import { systemClock, type Clock } from './clock.js';
import { DatapathRegistry } from './switch/registry.js';
import { listenForSwitches, type BoundAddress, type SwitchListener, type TlsFiles } from './switch/server.js';

export type { App, Datapath };
export type { BoundAddress, TlsFiles } from './switch/server.js';
export type { RegistryEventMap as ControllerEventMap, WaitOptions } from './switch/registry.js';
export { SwitchWaitError } from './switch/registry.js';
export { SwitchConnection } from './switch/connection.js';
export type { ConnectionObserver } from './switch/connection.js';

export interface ControllerOptions extends ConnectionConfig {
  /** Where switches connect; port 0 picks a free port (read it from Controller.address). */
  readonly listen: { readonly host: string; readonly port: number };
  /** Mutual TLS instead of plain TCP. */
  readonly tls?: TlsFiles;
  /** Run in this order; packet-ins go to each until one consumes it. */
  readonly apps: readonly App[];
  /** Default: JSON lines at info level on stderr. */
  readonly log?: Logger;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Told about every switch's OFPT_ERRORs and echo round trips (metrics). */
  readonly observer?: ConnectionObserver;
}

/**
 * A running controller. Events (from DatapathRegistry): 'switchUp' (dp) after
 * every app's switchUp ran, 'switchDown' (dp, reason).
 */
export class Controller extends DatapathRegistry {
  private stopping: Promise<void> | undefined;
  private listener: SwitchListener | undefined;

  /** @internal use startController() */
  constructor(
    private readonly dispatcher: AppDispatcher,
    private readonly logger: Logger,
    registryOpts: ConstructorParameters<typeof DatapathRegistry>[0],
  ) {
    super(registryOpts);
  }

  /** The bound listen address (the real port when 0 was asked for). */
  get address(): BoundAddress {
    return this.listener?.address ?? { host: '', port: 0 };
  }

  /** @internal */
  attachListener(listener: SwitchListener): void {
    this.listener = listener;
  }

  /** Closes every connection ('controller-stopped'), then the listener, then stops the apps (last first). Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info('controller stopping', { connections: this.connectionCount });
      this.closeAll('controller-stopped');
      await this.listener?.close();
      await this.dispatcher.stop();
      this.logger.info('controller stopped');
    })();
    return this.stopping;
  }
}

/**
 * Starts listening for switches and runs `apps` on them. Resolves once the
 * listener is bound; rejects with SwitchConfigError on bad options or TLS files,
 * or with the bind error.
 */
export async function startController(opts: ControllerOptions): Promise<Controller> {
  const log = opts.log ?? createLogger();
  const clock = opts.clock ?? systemClock;
  const config = resolveConnectionConfig(opts);
  const dispatcher = new AppDispatcher(opts.apps, log, () => clock.now());
  const ctl = new Controller(dispatcher, log, { apps: dispatcher, config, clock, log, ...(opts.observer === undefined ? {} : { observer: opts.observer }) });
  const listener = await listenForSwitches({
    host: opts.listen.host,
    port: opts.listen.port,
    ...(opts.tls === undefined ? {} : { tls: opts.tls }),
    log,
    onSocket: (socket) => void ctl.accept(socket),
  });
  ctl.attachListener(listener);
  return ctl;
}
