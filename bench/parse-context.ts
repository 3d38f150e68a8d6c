/**
 * `node dist/bench/parse-context.js`: model validation alone, parseContext() on contexts of
 * 1k, 10k and 100k CHILD SAs (N CHILD SAs, N policies, N/4 IKE SAs, as bench/run.ts), in the
 * forms it meets: a decoded blob payload (what `put` validates), the JSON form (the file
 * gateway) and runtime objects (what the drivers build). Beside it, the interpreted zod model
 * on the decoded payload: what parseContext() ran before it used the compiled model.
 * Each size runs in its own process. `BENCH_SIZES=1000,10000` picks other sizes.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { keyLabels } from '../lib/format/cbor-labels.js';
import { encodeCanonical } from '../lib/format/cbor-encode.js';
import { decodeCanonical } from '../lib/format/cbor-decode.js';
import { PAYLOAD_LABELS } from '../lib/format/payload-labels.js';
import { Context } from '../lib/model/context.js';
import { parseContext } from '../lib/model/validate.js';
import { randomContext } from '../test/helpers/random-context.js';

interface Result {
  childSas: number;
  payloadMs: number;
  payloadColdMs: number;
  jsonMs: number;
  runtimeMs: number;
  interpretedMs: number;
}

function measure(childSas: number): Result {
  const runs = childSas >= 100_000 ? 3 : 7;
  const context = randomContext(`bench ${childSas}`, { ikeSas: Math.ceil(childSas / 4), childPairsPerIke: 2, looseChildren: 0 });
  const labels = keyLabels(PAYLOAD_LABELS);
  const payload = decodeCanonical(encodeCanonical(context, labels), 'payload', labels);
  const json: unknown = JSON.parse(JSON.stringify(Context.encode(context)));
  const times = (work: () => unknown): number[] =>
    Array.from({ length: runs }, () => {
      const start = performance.now();
      work();
      return performance.now() - start;
    });
  const payloadTimes = times(() => parseContext(payload));
  return {
    childSas,
    payloadColdMs: payloadTimes[0] ?? NaN,
    payloadMs: Math.min(...payloadTimes),
    jsonMs: Math.min(...times(() => parseContext(json))),
    runtimeMs: Math.min(...times(() => parseContext(context))),
    interpretedMs: Math.min(...times(() => Context.parse(payload))),
  };
}

const [size] = process.argv.slice(2);
if (size !== undefined) {
  console.log(JSON.stringify(measure(Number(size))));
} else {
  const sizes = (process.env['BENCH_SIZES'] ?? '1000,10000,100000').split(',').map(Number);
  const script = fileURLToPath(import.meta.url);
  const results = sizes.map((n) => {
    process.stderr.write(`bench: parseContext, ${n} CHILD SAs...\n`);
    const out = execFileSync(process.execPath, ['--max-old-space-size=8192', script, String(n)], { encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Result;
  });
  const f = (ms: number) => ms.toFixed(0);
  const rows = [
    ['CHILD SAs', 'payload cold ms', 'payload ms', 'JSON ms', 'runtime ms', 'interpreted zod ms', 'interpreted/payload'],
    ...results.map((r) => [String(r.childSas), f(r.payloadColdMs), f(r.payloadMs), f(r.jsonMs), f(r.runtimeMs), f(r.interpretedMs), (r.interpretedMs / r.payloadMs).toFixed(2)]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padStart(widths[i] ?? 0)).join(' | ')} |`;
  console.log('\nparseContext() alone: N CHILD SAs, N policies, N/4 IKE SAs; cold = first run in a fresh process, the rest best of several\n');
  console.log(line(rows[0] ?? []));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows.slice(1)) console.log(line(row));
}
