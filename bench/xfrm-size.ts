/**
 * One phase of the xfrm benchmark (bench/xfrm.ts) for one size, in its own process so that its
 * peak RSS is its own. Prints one JSON line.
 *
 *   get N NETNS [policies]   NETNS already holds the workload (installed by `ip -batch`):
 *     get      the driver's read() (`ipsec-ctx get --from xfrm:?netns=NETNS` without the blob):
 *              dump, parse, convert to the model, validate; cold (first, what one CLI call pays)
 *              and the best of a few runs
 *     stages   the same steps timed one by one: dump (kernel + recv), parse (netlink -> Kernel*
 *              records), convert (-> model), validate (zod)
 *     limit    the kernel's limit: a pre-built dump request sent on the bare addon socket,
 *              datagrams received until NLMSG_DONE, messages only counted
 *   put N NETNS [policies]   NETNS is empty:
 *     put      the driver's apply() into NETNS (`ipsec-ctx put --to xfrm:?netns=NETNS` after the
 *              blob is open): dump of the target, merge plan, messages, one batch with an ACK
 *              per request; flushed (untimed) after each run
 *     stages   plan (dump of the empty target + planMerge), build (planInstall: every NEWSA
 *              and NEWPOLICY message), batch (XfrmSocket.batch: send, kernel, ACKs)
 *     limit    the kernel's limit: the same messages, built and packed into 256 KiB datagrams
 *              beforehand, sent on the bare addon socket with up to LIMIT_WINDOW requests in
 *              flight; the ACKs are only counted
 *
 * `policies`: the workload without SAs (the host kernel has no ESP).
 * Times are performance.now() deltas (CLOCK_MONOTONIC; in the lab, the guest's clock).
 */
import { loadAddon } from '../lib/drivers/xfrm/addon.js';
import { NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, XFRM_MSG } from '../lib/drivers/xfrm/constants.js';
import { planInstall } from '../lib/drivers/xfrm/install-plan.js';
import { LITTLE_ENDIAN, encodeMessage, setSequence } from '../lib/drivers/xfrm/netlink.js';
import { XfrmSocket } from '../lib/drivers/xfrm/socket.js';
import { dumpKernelState, kernelStateToModel, parsePolicyDump, parseSaDump } from '../lib/drivers/xfrm/state.js';
import { XfrmGateway } from '../lib/drivers/xfrm/xfrm-driver.js';
import { parseXfrmUri } from '../lib/drivers/xfrm/xfrm-uri.js';
import { type Context, MODEL_VERSION } from '../lib/model/context.js';
import { parseContext } from '../lib/model/validate.js';
import { planMerge } from '../lib/restore/merge.js';
import { workload } from './xfrm-workload.js';

const [phase, sizeText, netns, variant] = process.argv.slice(2);
const size = Number(sizeText);
if ((phase !== 'get' && phase !== 'put') || !Number.isInteger(size) || !netns) {
  console.error('usage: xfrm-size.js get|put N NETNS [policies]');
  process.exit(2);
}
const policiesOnly = variant === 'policies';
const runs = size >= 100_000 ? 2 : size >= 10_000 ? 3 : 5;
/** Requests in flight in the limit loop: as many as the 8 MiB receive buffer holds ACKs for. */
const LIMIT_WINDOW = 4096;
const env = { nowMs: () => Date.now(), cwd: process.cwd() };
const gateway = new XfrmGateway(parseXfrmUri(`?netns=${netns}`), env);
const rssMb = () => process.resourceUsage().maxRSS / 1024;

function timed<T>(work: () => T): [T, number] {
  const start = performance.now();
  const result = work();
  return [result, performance.now() - start];
}

async function timedAsync<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await work();
  return [result, performance.now() - start];
}

function withSocket<T>(work: (socket: XfrmSocket) => T): T {
  const socket = XfrmSocket.open({ netns: netns! });
  try {
    return work(socket);
  } finally {
    socket.close();
  }
}

/** FLUSHSA (any protocol) and FLUSHPOLICY. */
function flush(): void {
  withSocket((socket) => {
    socket.request(encodeMessage({ type: XFRM_MSG.FLUSHSA, flags: NLM_F_REQUEST | NLM_F_ACK, seq: 0, pid: 0 }, new Uint8Array([255, 0, 0, 0])), 'flush SAs');
    socket.request(encodeMessage({ type: XFRM_MSG.FLUSHPOLICY, flags: NLM_F_REQUEST | NLM_F_ACK, seq: 0, pid: 0 }, new Uint8Array(0)), 'flush policies');
  });
}

function count(): { sas: number; policies: number } {
  return withSocket((socket) => {
    const { raw } = dumpKernelState(socket);
    return { sas: raw.sa.messages.length, policies: raw.policy.messages.length };
  });
}

/** Every message header of a datagram: [messages in it, whether NLMSG_DONE or an error came]. */
function walk(datagram: Buffer): [number, boolean, number] {
  let offset = 0;
  let messages = 0;
  let errors = 0;
  let done = false;
  while (offset + 16 <= datagram.byteLength) {
    const length = LITTLE_ENDIAN ? datagram.readUInt32LE(offset) : datagram.readUInt32BE(offset);
    const type = LITTLE_ENDIAN ? datagram.readUInt16LE(offset + 4) : datagram.readUInt16BE(offset + 4);
    if (type === NLMSG_DONE) done = true;
    else if (type === NLMSG_ERROR) {
      messages++;
      if ((LITTLE_ENDIAN ? datagram.readInt32LE(offset + 16) : datagram.readInt32BE(offset + 16)) !== 0) errors++;
    } else messages++;
    offset += (length + 3) & ~3;
  }
  return [messages, done, errors];
}

const best = (values: number[]) => Math.min(...values);

if (phase === 'get') {
  const expected = count();
  // get, as the CLI runs it (first run cold), then the best of a few.
  const getRuns: number[] = [];
  let context: Context | undefined;
  for (let i = 0; i < runs; i++) {
    const [result, ms] = await timedAsync(() => gateway.read());
    getRuns.push(ms);
    context = result;
    if (i === 0) (globalThis as { rssAfterGet?: number }).rssAfterGet = rssMb();
  }
  const rssAfterGet = (globalThis as { rssAfterGet?: number }).rssAfterGet!;
  if (context!.childSas.length !== expected.sas || context!.policies.length !== expected.policies || context!.policies.length !== size) {
    throw new Error(`get read ${context!.childSas.length} SAs and ${context!.policies.length} policies, the kernel holds ${expected.sas} and ${expected.policies}`);
  }
  context = undefined;

  // Where the time goes.
  const stages = { dump: [] as number[], parse: [] as number[], convert: [] as number[], validate: [] as number[] };
  let datagrams = 0;
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    withSocket((socket) => {
      const [dumps, dumpMs] = timed(() => ({ sa: socket.dump(XFRM_MSG.GETSA, 'SAs'), policy: socket.dump(XFRM_MSG.GETPOLICY, 'policies') }));
      const [state, parseMs] = timed(() => ({ sas: parseSaDump(dumps.sa.messages), policies: parsePolicyDump(dumps.policy.messages) }));
      const [model, convertMs] = timed(() => kernelStateToModel(state));
      const [, validateMs] = timed(() =>
        parseContext({
          version: MODEL_VERSION,
          provenance: { source: netns, driver: 'xfrm', capturedAtMs: Date.now() },
          ikeSas: [],
          childSas: model.childSas.reverse(),
          policies: model.policies.reverse(),
        }),
      );
      stages.dump.push(dumpMs);
      stages.parse.push(parseMs);
      stages.convert.push(convertMs);
      stages.validate.push(validateMs);
      datagrams = dumps.sa.datagrams.length + dumps.policy.datagrams.length;
      bytes = [...dumps.sa.datagrams, ...dumps.policy.datagrams].reduce((sum, d) => sum + d.byteLength, 0);
    });
  }

  // The kernel's limit: pre-built requests, datagrams only walked for NLMSG_DONE.
  const addon = loadAddon();
  const limitRuns: number[] = [];
  let limitMessages = 0;
  for (let i = 0; i < runs; i++) {
    const fd = addon.open({ netns, timeoutMs: 30_000 });
    try {
      const requests = [XFRM_MSG.GETSA, XFRM_MSG.GETPOLICY].map((type, n) => encodeMessage({ type, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 1000 + n, pid: 0 }, new Uint8Array(0)));
      const [messages, ms] = timed(() => {
        let total = 0;
        for (const request of requests) {
          addon.send(fd, request);
          for (let done = false; !done; ) {
            const [n, end] = walk(addon.recv(fd, true)!);
            total += n;
            done = end;
          }
        }
        return total;
      });
      limitRuns.push(ms);
      limitMessages = messages;
    } finally {
      addon.close(fd);
    }
  }
  if (limitMessages !== expected.sas + expected.policies) throw new Error(`the limit loop counted ${limitMessages} messages`);

  console.log(
    JSON.stringify({
      phase,
      size,
      sas: expected.sas,
      policies: expected.policies,
      coldMs: getRuns[0],
      bestMs: best(getRuns),
      dumpMs: best(stages.dump),
      parseMs: best(stages.parse),
      convertMs: best(stages.convert),
      validateMs: best(stages.validate),
      limitMs: best(limitRuns),
      datagrams,
      bytes,
      rssAfterGetMb: rssAfterGet,
      peakRssMb: rssMb(),
    }),
  );
} else {
  const { context } = workload(size, Date.now(), { policiesOnly });
  const rssInput = rssMb();
  const before = count();
  if (before.sas + before.policies !== 0) throw new Error(`${netns} is not empty`);

  const check = () => {
    const after = count();
    if (after.sas !== context.childSas.length || after.policies !== context.policies.length) {
      throw new Error(`put left ${after.sas} SAs and ${after.policies} policies, want ${context.childSas.length} and ${context.policies.length}`);
    }
  };

  const putRuns: number[] = [];
  let rssAfterPut = 0;
  for (let i = 0; i < runs; i++) {
    const [, ms] = await timedAsync(() => gateway.apply(context, { replace: false, dryRun: false }));
    putRuns.push(ms);
    if (i === 0) rssAfterPut = rssMb();
    check();
    flush();
  }

  // Where the time goes: the same steps as apply(), one by one.
  const stages = { plan: [] as number[], build: [] as number[], batch: [] as number[] };
  let messages: Uint8Array[] = [];
  for (let i = 0; i < runs; i++) {
    withSocket((socket) => {
      const [plan, planMs] = timed(() => {
        const held = kernelStateToModel(dumpKernelState(socket).state, { skipUnsupported: true });
        const existing: Context = { ...context, childSas: held.childSas, policies: held.policies };
        return { existing, merge: planMerge(existing, context, { replace: false }) };
      });
      const [steps, buildMs] = timed(() => planInstall(plan.existing, context, plan.merge.result).steps);
      messages = steps.map((step) => step.message);
      const [results, batchMs] = timed(() => socket.batch(messages, { stopOnError: true }));
      if (results.some((result) => result.errno !== 0)) throw new Error('a request of the batch failed');
      stages.plan.push(planMs);
      stages.build.push(buildMs);
      stages.batch.push(batchMs);
    });
    check();
    flush();
  }

  // The kernel's limit: the same messages, packed into datagrams before the clock starts.
  const addon = loadAddon();
  const limitRuns: number[] = [];
  const datagrams: { bytes: Buffer; requests: number }[] = [];
  let parts: Uint8Array[] = [];
  let partBytes = 0;
  const pack = () => {
    if (parts.length > 0) datagrams.push({ bytes: Buffer.concat(parts, partBytes), requests: parts.length });
    parts = [];
    partBytes = 0;
  };
  messages.forEach((message, i) => {
    setSequence(message, i + 1);
    if (partBytes + message.byteLength > 256 * 1024 || parts.length >= LIMIT_WINDOW / 4) pack();
    parts.push(message);
    partBytes += message.byteLength;
  });
  pack();
  for (let i = 0; i < runs; i++) {
    const fd = addon.open({ netns, timeoutMs: 30_000 });
    try {
      const [[acked, errors], ms] = timed(() => {
        let inFlight = 0;
        let acks = 0;
        let failed = 0;
        for (const datagram of datagrams) {
          while (inFlight + datagram.requests > LIMIT_WINDOW) {
            const [n, , e] = walk(addon.recv(fd, true)!);
            inFlight -= n;
            acks += n;
            failed += e;
          }
          addon.send(fd, datagram.bytes);
          inFlight += datagram.requests;
        }
        while (inFlight > 0) {
          const [n, , e] = walk(addon.recv(fd, true)!);
          inFlight -= n;
          acks += n;
          failed += e;
        }
        return [acks, failed];
      });
      if (acked !== messages.length || errors !== 0) throw new Error(`the limit loop got ${acked} ACKs for ${messages.length} requests, ${errors} errors`);
      limitRuns.push(ms);
    } finally {
      addon.close(fd);
    }
    check();
    flush();
  }

  console.log(
    JSON.stringify({
      phase,
      size,
      sas: context.childSas.length,
      policies: context.policies.length,
      coldMs: putRuns[0],
      bestMs: best(putRuns),
      planMs: best(stages.plan),
      buildMs: best(stages.build),
      batchMs: best(stages.batch),
      limitMs: best(limitRuns),
      requestBytes: messages.reduce((sum, m) => sum + m.byteLength, 0),
      limitDatagrams: datagrams.length,
      rssInputMb: rssInput,
      rssAfterPutMb: rssAfterPut,
      peakRssMb: rssMb(),
    }),
  );
}
