/**
 * A child process of bench/sockets.ts that holds many loopback TCP sockets:
 * it listens on HOST:0 and opens CONNECTIONS connections to itself (two
 * sockets each). A share of them is left half-closed: the server side ends
 * (FIN_WAIT2) and the client side never does (CLOSE_WAIT), so state-filtered
 * questions have something to find. Prints "ready PORT" and holds everything
 * until stdin closes.
 *
 *   node bench/socket-farm.ts HOST CONNECTIONS CLOSE_WAIT_EVERY
 */
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

const [host = '127.0.0.1', countText = '1000', everyText = '50'] = process.argv.slice(2);
const connections = Number(countText);
const closeWaitEvery = Number(everyText);
const held: Socket[] = [];

const server = createServer({ allowHalfOpen: true }, (socket) => {
  held.push(socket);
  socket.on('error', () => {});
  socket.once('data', () => socket.end()); // the client asked to be left in CLOSE_WAIT
});
server.listen({ host, port: 0, backlog: 4096 });
await once(server, 'listening');
const port = (server.address() as { port: number }).port;

const BATCH = 200;
for (let done = 0; done < connections; ) {
  const batch: Promise<unknown>[] = [];
  for (let i = 0; i < BATCH && done < connections; i++, done++) {
    const socket = connect({ host, port, allowHalfOpen: true });
    socket.on('error', (error) => {
      process.stderr.write(`socket-farm: ${error.message}\n`);
      process.exit(1);
    });
    held.push(socket);
    const leave = closeWaitEvery > 0 && done % closeWaitEvery === 0;
    batch.push(once(socket, 'connect').then(() => leave && socket.write('x')));
  }
  await Promise.all(batch);
}
process.stdout.write(`ready ${port}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
