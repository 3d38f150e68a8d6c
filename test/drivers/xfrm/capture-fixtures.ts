/**
 * Captures the byte fixtures in fixtures/netlink/ from a real kernel. Run inside the lab:
 *
 *   npx tsc -b && lab/run -- test/drivers/xfrm/capture-fixtures.sh
 *
 * The shell script installs fixtures/netlink/<name>.batch with `ip -batch` into network
 * namespace <name>; this program dumps SAs and policies of each namespace given on the command
 * line with the driver's socket and writes the raw datagrams, exactly as the kernel sent them,
 * to fixtures/netlink/<name>.sa.bin and <name>.policy.bin.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XFRM_MSG } from '../../../lib/drivers/xfrm/constants.js';
import { XfrmSocket } from '../../../lib/drivers/xfrm/socket.js';

const [outDir, ...namespaces] = process.argv.slice(2);
if (!outDir || namespaces.length === 0) {
  console.error('usage: capture-fixtures OUTDIR NETNS...');
  process.exit(2);
}
for (const netns of namespaces) {
  const socket = XfrmSocket.open({ netns });
  try {
    for (const [type, kind] of [
      [XFRM_MSG.GETSA, 'sa'],
      [XFRM_MSG.GETPOLICY, 'policy'],
    ] as const) {
      const dump = socket.dump(type, kind);
      const file = join(outDir, `${netns}.${kind}.bin`);
      writeFileSync(file, Buffer.concat(dump.datagrams));
      console.log(`${file}: ${dump.messages.length} messages in ${dump.datagrams.length} datagrams`);
    }
  } finally {
    socket.close();
  }
}
