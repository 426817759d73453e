import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a real service, so a test can make that service unreachable and bring it back without
 * touching the service itself (the PostgreSQL, Redis and NATS on the machine are shared with other suites).
 * `cut()` drops every open connection and refuses new ones; `restore()` listens again on the same port.
 * `stall()` is the silent kind of outage (a partition, a failed-over address, a stateful firewall that forgot the
 * flow): every connection stays open but nothing more crosses it either way, and new connections are accepted and
 * then hear nothing. `restore()` after a stall lets everything flow again; `abandon()` after a stall is a failover:
 * the stalled connections stay silent for good, new ones reach the service.
 */
export interface TcpProxy {
  readonly port: number;
  /** The target URL with its host and port replaced by the proxy's. */
  url(target: string): string;
  cut(): Promise<void>;
  stall(): void;
  abandon(): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  /** Each open connection's two ends, to stop and restart what flows between them. */
  const pairs = new Map<Socket, Socket>();
  /** What closes both ends when either closes; taken off while stalled (a close does not cross a partition either). */
  const drops = new Map<Socket, () => void>();
  /** The connections stalled now (no upstream: accepted while stalled), the only ones `restore()` links again. */
  const held = new Map<Socket, Socket | undefined>();
  let stalled = false;
  let server: Server | undefined;
  let port = 0;
  const forward = (client: Socket) => {
    const upstream = connect(targetPort, targetHost);
    pairs.set(client, upstream);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
      pairs.delete(client);
      drops.delete(client);
    };
    drops.set(client, drop);
    upstream.on('error', () => upstream.destroy());
    link(client, upstream);
  };
  const link = (client: Socket, upstream: Socket) => {
    const drop = drops.get(client);
    if (drop) {
      client.on('close', drop);
      upstream.on('close', drop);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        sockets.add(client);
        client.on('error', () => client.destroy());
        // While stalled a new connection is accepted and then hears nothing.
        if (stalled) held.set(client, undefined);
        else forward(client);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });
  const stall = () => {
    stalled = true;
    for (const [client, upstream] of pairs) {
      if (held.has(client)) continue;
      held.set(client, upstream);
      const drop = drops.get(client);
      if (drop) {
        client.off('close', drop);
        upstream.off('close', drop);
      }
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  };
  const abandon = () => {
    stalled = false;
    // Forgotten, not closed: the clients keep waiting on them until they give up by themselves.
    for (const client of held.keys()) pairs.delete(client);
    held.clear();
  };
  const resume = () => {
    stalled = false;
    const stalledNow = [...held];
    held.clear();
    for (const [client, upstream] of stalledNow) {
      if (client.destroyed) continue;
      if (!upstream) {
        forward(client);
        continue;
      }
      if (upstream.destroyed) client.destroy();
      else link(client, upstream);
    }
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      stalled = false;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      pairs.clear();
      drops.clear();
      held.clear();
      if (!server) return resolve();
      server.close(() => resolve());
      server = undefined;
    });
  await listen();
  return {
    get port() {
      return port;
    },
    url(target) {
      const u = new URL(target);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut: stop,
    stall,
    abandon,
    restore: async () => {
      if (server) resume();
      else await listen();
    },
    close: stop,
  };
}

/** Host and port of a service URL. */
export function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: u.port ? Number(u.port) : defaultPort };
}
