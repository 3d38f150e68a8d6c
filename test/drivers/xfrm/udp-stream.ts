/**
 * A counting UDP stream for the lab's live-migration test (lab-driver.ts): sends datagram
 * number 1, 2, 3... to PEER:PORT at a steady rate and records when each datagram from the
 * other side arrived. On SIGTERM it stops, waits for stragglers, and writes a JSON summary:
 * how many were sent and received, duplicates, and every gap in arrivals longer than
 * GAP_MS (where the datagrams in between went, and how long the silence lasted).
 *
 *   node udp-stream.js BIND_ADDR PORT PEER_ADDR PEER_PORT INTERVAL_MS OUT.json
 *
 * Timers in the lab kernel tick at HZ=100, so each tick sends as many datagrams as the time
 * since the start calls for: the rate holds even when a tick comes late.
 */
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const [bindAddress, port, peer, peerPort, intervalText, out] = process.argv.slice(2);
if (!out) {
  console.error('usage: udp-stream BIND_ADDR PORT PEER_ADDR PEER_PORT INTERVAL_MS OUT.json');
  process.exit(2);
}
const interval = Number(intervalText);
/** A silence longer than three intervals is a gap (the guest's timers tick every 10 ms). */
const GAP_MS = Math.max(40, 3 * interval);

const socket = createSocket('udp4');
const arrivals = new Map<number, number>();
let duplicates = 0;
let sent = 0;
let sendErrors = 0;
const started = performance.now();

socket.on('message', (message) => {
  if (message.byteLength < 4) return;
  const seq = message.readUInt32BE(0);
  if (arrivals.has(seq)) duplicates++;
  else arrivals.set(seq, Date.now());
});
socket.on('error', () => sendErrors++);
socket.bind(Number(port), bindAddress, () => {
  const timer = setInterval(() => {
    const due = Math.floor((performance.now() - started) / interval);
    while (sent < due) {
      sent++;
      // A buffer per datagram: dgram sends asynchronously and must not see it change.
      const payload = Buffer.alloc(64);
      payload.writeUInt32BE(sent, 0);
      // Unreachable for a moment during the move (no route, no SA): that is what is measured.
      socket.send(payload, Number(peerPort), peer, (error) => {
        if (error) sendErrors++;
      });
    }
  }, Math.max(1, Math.floor(interval)));
  process.on('SIGTERM', () => {
    clearInterval(timer);
    setTimeout(() => {
      const received = [...arrivals.entries()].sort((a, b) => a[0] - b[0]);
      const byTime = [...arrivals.entries()].sort((a, b) => a[1] - b[1]);
      // Arrival times are wall-clock milliseconds, so gaps can be matched to the orchestrator's steps.
      const gaps: { afterSeq: number; nextSeq: number; fromMs: number; toMs: number; ms: number; missing: number }[] = [];
      for (let i = 1; i < byTime.length; i++) {
        const [prevSeq, prevAt] = byTime[i - 1]!;
        const [seq, at] = byTime[i]!;
        if (at - prevAt > GAP_MS) gaps.push({ afterSeq: prevSeq, nextSeq: seq, fromMs: prevAt, toMs: at, ms: at - prevAt, missing: Math.max(0, seq - prevSeq - 1) });
      }
      const highest = received.length > 0 ? received[received.length - 1]![0] : 0;
      const lastMs = byTime.length > 0 ? byTime[byTime.length - 1]![1] : 0;
      const summary = { sent, sendErrors, received: received.length, highest, missing: highest - received.length, duplicates, gaps, lastMs, intervalMs: interval };
      writeFileSync(out, `${JSON.stringify(summary)}\n`);
      socket.close();
      process.exit(0);
    }, 300);
  });
  writeFileSync(`${out}.ready`, '');
});
