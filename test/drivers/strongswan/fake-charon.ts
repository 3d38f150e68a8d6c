/**
 * A fake charon vici socket for tests without a daemon: answers `version` with a release,
 * `list-conns` with the given connections (PSK both ways) and everything else (`list-sas`
 * included) with an empty response.
 */
import { type Server, createServer } from 'node:net';
import { type ViciSection, encodeViciMessage } from '../../../lib/drivers/strongswan/vici.js';

export function fakeVici(path: string, release: string, connections: Record<string, string[]>): Promise<Server> {
  const frame = (type: number, name: string | undefined, message?: ViciSection) => {
    const parts: Buffer[] = [Buffer.from([type])];
    if (name !== undefined) parts.push(Buffer.from([name.length]), Buffer.from(name));
    if (message) parts.push(encodeViciMessage(message));
    const body = Buffer.concat(parts);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    return Buffer.concat([head, body]);
  };
  const server = createServer((socket) => {
    let buffer: Buffer = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      buffer = Buffer.concat([new Uint8Array(buffer), new Uint8Array(data)]);
      while (buffer.length >= 4 && buffer.length >= 4 + buffer.readUInt32BE(0)) {
        const body = buffer.subarray(4, 4 + buffer.readUInt32BE(0));
        buffer = buffer.subarray(4 + body.length);
        const type = body[0]!;
        const name = body.toString('utf8', 2, 2 + body[1]!);
        const reply = (b: Buffer) => socket.write(new Uint8Array(b));
        if (type === 3 || type === 4) reply(frame(5, undefined));
        else if (type === 0 && name === 'version') reply(frame(1, undefined, { daemon: 'charon', version: release }));
        else if (type === 0 && name === 'list-conns') {
          for (const [conn, children] of Object.entries(connections)) {
            reply(frame(7, 'list-conn', { [conn]: { 'local-1': { class: 'pre-shared key' }, 'remote-1': { class: 'pre-shared key' }, children: Object.fromEntries(children.map((c) => [c, {}])) } }));
          }
          reply(frame(1, undefined, {}));
        } else if (type === 0) reply(frame(1, undefined, {}));
      }
    });
  });
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}
