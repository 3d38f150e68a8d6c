/**
 * `npm run bench`: seal and open throughput for contexts of 1k, 10k and 100k CHILD SAs,
 * beside the raw cipher on the same bytes (the limit) and plain JSON of the same context,
 * all measured in this run. Each size runs in its own process (bench/seal-open.ts).
 * `BENCH_SIZES=1000,10000` picks other sizes.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const sizes = (process.env['BENCH_SIZES'] ?? '1000,10000,100000').split(',').map(Number);
const script = fileURLToPath(new URL('./seal-open.js', import.meta.url));

interface Result {
  childSas: number;
  records: number;
  blobBytes: number;
  payloadBytes: number;
  jsonBytes: number;
  sealMs: number;
  openMs: number;
  sealColdMs: number;
  openColdMs: number;
  encodeMs: number;
  cipherSealMs: number;
  cipherOpenMs: number;
  decodeMs: number;
  validateMs: number;
  jsonStringifyMs: number;
  jsonParseMs: number;
  peakRssMb: number;
}

const results: Result[] = sizes.map((n) => {
  process.stderr.write(`bench: ${n} CHILD SAs...\n`);
  const out = execFileSync(process.execPath, ['--max-old-space-size=8192', script, String(n)], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Result;
});

const f = (x: number, digits = 0) => x.toFixed(digits);
const perSecond = (count: number, ms: number) => f(count / (ms / 1000));
const mbPerSecond = (bytes: number, ms: number) => f(bytes / 1e6 / (ms / 1000), 1);

const rows: string[][] = [
  ['CHILD SAs', 'seal cold ms', 'seal ms', 'seal SAs/s', 'seal MB/s', 'cipher ms', 'seal/cipher', 'open cold ms', 'open ms', 'open SAs/s', 'cipher ms', 'open/cipher', 'JSON out ms', 'JSON in ms', 'blob B/SA', 'JSON B/SA', 'peak RSS MB'],
  ...results.map((r) => [
    String(r.childSas),
    f(r.sealColdMs),
    f(r.sealMs),
    perSecond(r.childSas, r.sealMs),
    mbPerSecond(r.blobBytes, r.sealMs),
    f(r.cipherSealMs),
    f(r.sealMs / r.cipherSealMs, 2),
    f(r.openColdMs),
    f(r.openMs),
    perSecond(r.childSas, r.openMs),
    f(r.cipherOpenMs),
    f(r.openMs / r.cipherOpenMs, 2),
    f(r.jsonStringifyMs),
    f(r.jsonParseMs),
    f(r.blobBytes / r.childSas),
    f(r.jsonBytes / r.childSas),
    f(r.peakRssMb),
  ]),
];
const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
const line = (row: string[]) => `| ${row.map((cell, i) => cell.padStart(widths[i] ?? 0)).join(' | ')} |`;
console.log('\nseal/open of a context: N CHILD SAs, N policies, N/4 IKE SAs; cold = first run in a fresh process (what one CLI call pays), the rest best of several\n');
console.log(line(rows[0] ?? []));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of rows.slice(1)) console.log(line(row));
console.log('\nwhere the time goes (ms): encode + cipher + sign = seal; parse/verify + cipher + decode + validate = open\n');
for (const r of results) {
  console.log(
    `  ${String(r.childSas).padStart(6)}: encode ${f(r.encodeMs)}, cipher ${f(r.cipherSealMs)} | cipher ${f(r.cipherOpenMs)}, decode ${f(r.decodeMs)}, validate (zod) ${f(r.validateMs)}; payload ${f(r.payloadBytes / 1e6, 1)} MB, ${r.records} records`,
  );
}
console.log('\ntargets (issue 3): seal within 2x of the cipher alone; 100k sealed and opened in well under a second each; RSS proportional to the context');
