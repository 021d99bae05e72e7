/**
 * A client of the control API (used by `seamless vm ...`): one HTTP request per
 * call, JSON in, typed errors out.
 */
import { request } from 'node:http';
import { formatApiAddress, type ApiAddress } from './address.js';
import { ApiRequestError, ApiUnreachableError } from './errors.js';
import type { CommandView, DaemonView, HypervisorView, LinksView, SwitchView, VmView } from './types.js';

/** Connection-level failures that mean "nobody is serving there". */
const UNREACHABLE = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'EPERM', 'ENOTSOCK', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH']);

export class ApiClient {
  constructor(
    readonly address: ApiAddress,
    /** Per request (default 10000 ms). */
    readonly timeoutMs = 10_000,
  ) {}

  status(): Promise<DaemonView> {
    return this.call('GET', '/v1/status');
  }

  async vms(): Promise<VmView[]> {
    return (await this.call<{ vms: VmView[] }>('GET', '/v1/vms')).vms;
  }

  vm(name: string): Promise<VmView> {
    return this.call('GET', `/v1/vms/${encodeURIComponent(name)}`);
  }

  park(name: string): Promise<CommandView> {
    return this.call('POST', `/v1/vms/${encodeURIComponent(name)}/park`);
  }

  wake(name: string): Promise<CommandView> {
    return this.call('POST', `/v1/vms/${encodeURIComponent(name)}/wake`);
  }

  async links(): Promise<LinksView> {
    return this.call<LinksView>('GET', '/v1/links');
  }

  async hypervisors(): Promise<HypervisorView[]> {
    return (await this.call<{ hypervisors: HypervisorView[] }>('GET', '/v1/hypervisors')).hypervisors;
  }

  async switches(): Promise<SwitchView[]> {
    return (await this.call<{ switches: SwitchView[] }>('GET', '/v1/switches')).switches;
  }

  /** One request; rejects with ApiUnreachableError, or ApiRequestError for an error answer. */
  call<T>(method: 'GET' | 'POST', path: string): Promise<T> {
    const where = this.address.kind === 'unix' ? { socketPath: this.address.path } : { host: this.address.host, port: this.address.port };
    return new Promise<T>((resolve, reject) => {
      const req = request({ ...where, method, path, agent: false, headers: { accept: 'application/json' }, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            return reject(new ApiRequestError(status, 'BAD_RESPONSE', `${formatApiAddress(this.address)} answered ${status} with something that is not JSON: ${text.slice(0, 200)}`));
          }
          if (status >= 200 && status < 300) return resolve(body as T);
          const err = (body as { error?: { code?: unknown; message?: unknown } }).error;
          if (typeof err?.code === 'string' && typeof err.message === 'string') return reject(new ApiRequestError(status, err.code, err.message));
          reject(new ApiRequestError(status, 'BAD_RESPONSE', `${formatApiAddress(this.address)} answered ${status} without an error body`));
        });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (e: NodeJS.ErrnoException) => {
        const where = formatApiAddress(this.address);
        if (e.code !== undefined && UNREACHABLE.has(e.code)) return reject(new ApiUnreachableError(where, e));
        // llhttp's parse errors (code HPE_*): something answers there, but not in HTTP.
        if (e.code?.startsWith('HPE_') === true) {
          return reject(new ApiRequestError(0, 'BAD_RESPONSE', `${where} does not speak the seamless control API (${e.message}); is it the controller's --api address?`));
        }
        reject(new ApiRequestError(0, e.code ?? 'REQUEST_FAILED', `request to the controller at ${where} failed: ${e.message}`));
      });
      req.end();
    });
  }
}
