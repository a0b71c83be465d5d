/** A connected loopback TCP pair for stream tests. */
import { createServer, connect, type Socket, type AddressInfo, type NetConnectOpts } from 'node:net';

/** [a = the client end, b = the server end]; `clientOptions` go to net.connect (e.g. `onread`). */
export async function socketPair(
  clientOptions: Partial<NetConnectOpts> = {},
): Promise<{ a: Socket; b: Socket }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const a = connect({ ...clientOptions, port: (server.address() as AddressInfo).port, host: '127.0.0.1' });
  const b = await accepted;
  server.close();
  return { a, b };
}
