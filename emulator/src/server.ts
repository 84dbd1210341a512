// TCP server: frames messages per connection and runs each connection's commands in order
// (one promise chain per socket), so a slow command on one connection never blocks another.
import net from 'node:net';
import type { ConnectionState } from './commands/context';
import type { Engine } from './engine';
import { encodeReply, MORE_TO_COME, OP_MSG, parseMessage } from './wire';

const MAX_MESSAGE_BYTES = 48_000_000;

export class WireServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private nextConnectionId = 1;

  constructor(private readonly engine: Engine) {
    this.server = net.createServer((socket) => this.accept(socket));
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    this.sockets.add(socket);
    this.engine.counters.connectionOpened();
    const conn: ConnectionState = {
      id: this.nextConnectionId++,
      principals: [],
      authConversations: new Map(),
      remoteAddress: `${socket.remoteAddress}:${socket.remotePort}`,
    };
    // Chunks are gathered and joined once per complete message (joining on every chunk would
    // copy a large insert's bytes once per chunk).
    let chunks: Buffer[] = [];
    let buffered = 0;
    let queue: Promise<void> = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      buffered += chunk.length;
      while (buffered >= 4) {
        const head = chunks[0].length >= 4 ? chunks[0] : Buffer.concat(chunks);
        const length = head.readInt32LE(0);
        if (length < 16 || length > MAX_MESSAGE_BYTES) {
          socket.destroy();
          return;
        }
        if (buffered < length) break;
        const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, buffered);
        const message = all.subarray(0, length);
        const rest = all.subarray(length);
        chunks = rest.length > 0 ? [rest] : [];
        buffered = rest.length;
        queue = queue.then(() => this.handle(socket, conn, message));
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.engine.counters.connectionClosed();
    });
  }

  private async handle(socket: net.Socket, conn: ConnectionState, message: Buffer): Promise<void> {
    if (socket.destroyed) return;
    let request;
    try {
      request = parseMessage(message);
    } catch {
      socket.destroy();
      return;
    }
    try {
      const reply = await this.engine.execute(conn, request.command);
      if (request.opCode === OP_MSG && request.flags & MORE_TO_COME) return;
      if (socket.destroyed) return;
      // One corked burst: the pieces leave as one writev, not one write each.
      socket.cork();
      for (const part of encodeReply(request, reply)) socket.write(part);
      socket.uncork();
    } catch {
      // A fail point asked to drop the connection (ConnectionClosedSignal), or encoding failed.
      socket.destroy();
    }
  }
}
