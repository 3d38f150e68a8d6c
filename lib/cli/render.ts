/**
 * What `inspect` and `put --dry-run` print. Secrets (every field the model tags with
 * `secret()`) are shown as "(hidden)" unless the user asked for --show-keys: redaction happens
 * here, at the edge, and nowhere else needs to remember it.
 */

import { encodePublicKey, type PublicKey } from '../crypto/key-text.js';
import type { Header } from '../format/header.js';
import type { ChildSa } from '../model/child-sa.js';
import { Context } from '../model/context.js';
import { describeChildSa, describeIkeSa, describePolicy } from '../model/describe.js';
import type { IkeSa } from '../model/ike-sa.js';
import type { Policy } from '../model/policy.js';
import { secretFieldNames } from '../model/secret.js';
import type { PreparedContext } from '../restore/prepare.js';
import type { PlannedChange } from '../restore/merge.js';

export const HIDDEN = '(hidden)';
const SECRET_FIELDS = secretFieldNames(Context);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function countsText(counts: { ikeSas: unknown[] | number; childSas: unknown[] | number; policies: unknown[] | number }): string {
  const n = (v: unknown[] | number) => (typeof v === 'number' ? v : v.length);
  return `${plural(n(counts.ikeSas), 'IKE SA')}, ${plural(n(counts.childSas), 'CHILD SA')}, ${plural(n(counts.policies), 'policy', 'policies')}`;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** "3m20s", "2h5m", "4d1h": coarse, for humans. */
export function span(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? `${Math.floor((s % 3600) / 60)}m` : ''}`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600) ? `${Math.floor((s % 86400) / 3600)}h` : ''}`;
}

function relative(targetSeconds: number, nowSeconds: number): string {
  return targetSeconds >= nowSeconds ? `in ${span(targetSeconds - nowSeconds)}` : `${span(nowSeconds - targetSeconds)} ago`;
}

/** The JSON form of a context with secret fields replaced by "(hidden)" unless `showKeys`. */
export function contextJsonView(context: Context, showKeys: boolean): unknown {
  const json = Context.encode(context);
  return showKeys ? json : redact(json);
}

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, SECRET_FIELDS.has(key) ? HIDDEN : redact(item)]));
  }
  return value;
}

export interface BlobStatus {
  signer: PublicKey;
  /** undefined when no trust list was given to check against. */
  trusted: boolean | undefined;
  nowMs: number;
}

export function headerJsonView(header: Header, status: BlobStatus): Record<string, unknown> {
  return {
    id: hex(header.id),
    source: header.source,
    signer: encodePublicKey(status.signer),
    signature: 'valid',
    trusted: status.trusted ?? null,
    created: isoTime(header.created),
    expires: isoTime(header.expires),
    expired: status.nowMs > header.expires,
    recipients: header.recipients.map((stanza) => stanza.type),
    counts: header.counts,
    payloadBytes: header.payloadSize,
  };
}

export function renderHeader(header: Header, status: BlobStatus): string[] {
  const trust = status.trusted === undefined ? 'signer not checked against a trust list' : status.trusted ? 'trusted' : 'NOT trusted';
  const expiry = status.nowMs > header.expires ? `EXPIRED ${span((status.nowMs - header.expires) / 1000)} ago` : `in ${span((header.expires - status.nowMs) / 1000)}`;
  return [
    `blob       ${hex(header.id)}`,
    `source     ${header.source}`,
    `signer     ${encodePublicKey(status.signer)}`,
    `signature  valid, ${trust}`,
    `created    ${isoTime(header.created)}`,
    `expires    ${isoTime(header.expires)} (${expiry})`,
    `recipients ${header.recipients.length}`,
    `contents   ${countsText(header.counts)} (${header.payloadSize} encrypted bytes)`,
  ];
}

function secretLine(name: string, value: Uint8Array | undefined, showKeys: boolean): string | undefined {
  if (value === undefined) return undefined;
  return `${name} ${showKeys ? hex(value) : HIDDEN}`;
}

function limitText(limit: ChildSa['lifetime']['hard'], used: ChildSa['lifetime']['used'], nowSeconds: number): string {
  const parts: string[] = [];
  if (limit.addSeconds !== undefined) {
    const left = used.addTime + Number(limit.addSeconds) - nowSeconds;
    parts.push(`${limit.addSeconds}s (${left > 0 ? `${span(left)} left` : 'passed'})`);
  }
  if (limit.useSeconds !== undefined) parts.push(`${limit.useSeconds}s after first use`);
  if (limit.bytes !== undefined) parts.push(`${limit.bytes} bytes`);
  if (limit.packets !== undefined) parts.push(`${limit.packets} packets`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

function cryptoText(child: ChildSa, showKeys: boolean): string {
  const c = child.crypto;
  const key = (bytes: Uint8Array) => (showKeys ? hex(bytes) : HIDDEN);
  switch (c.kind) {
    case 'aead':
      return `${c.algorithm}-${c.keySize} (ICV ${c.icvBits} bits) key ${key(c.key)}`;
    case 'cipher':
      return `${c.encryption.algorithm}-${c.encryption.keySize} key ${key(c.encryption.key)}, ${c.integrity.algorithm} key ${key(c.integrity.key)}`;
    case 'integrity':
      return `${c.integrity.algorithm} key ${key(c.integrity.key)}`;
    case 'compression':
      return c.algorithm;
  }
}

function renderChild(child: ChildSa, showKeys: boolean, nowSeconds: number, indent: string): string[] {
  const seq = child.sequence;
  const sequenceText =
    child.protocol === 'ipcomp'
      ? 'no sequence numbers'
      : child.direction === 'out'
        ? `outbound seq ${seq.outbound}${seq.esn ? ' (ESN)' : ''}`
        : `replay: highest ${seq.inbound}, window ${seq.windowSize}${seq.esn ? ' (ESN)' : ''}`;
  const extras = [
    child.encapsulation ? `UDP ${child.encapsulation.sourcePort}->${child.encapsulation.destinationPort}` : undefined,
    child.mark ? `mark ${child.mark.value}/${child.mark.mask}` : undefined,
    child.outputMark ? `output-mark ${child.outputMark.value}/${child.outputMark.mask}` : undefined,
    child.ifId !== undefined ? `if_id ${child.ifId}` : undefined,
    child.flags.length ? `flags ${child.flags.join(',')}` : undefined,
  ].filter((x) => x !== undefined);
  const { used } = child.lifetime;
  return [
    `${indent}${describeChildSa(child)} ${child.mode}${extras.length ? ` ${extras.join(' ')}` : ''}`,
    `${indent}  ${cryptoText(child, showKeys)}`,
    `${indent}  ${sequenceText}; used ${used.bytes} bytes, ${used.packets} packets`,
    `${indent}  lifetime hard ${limitText(child.lifetime.hard, used, nowSeconds)}; soft ${limitText(child.lifetime.soft, used, nowSeconds)}`,
  ];
}

function renderIke(ike: IkeSa, children: ChildSa[], showKeys: boolean, nowSeconds: number): string[] {
  const p = ike.proposal;
  // As swanctl --list-sas spells a proposal: additional key exchanges as KE1_..., KE2_...
  const additional = (p.additionalKeyExchanges ?? []).map((ke, i) => `KE${i + 1}_${ke}`);
  const proposal = [`${p.encryption.algorithm}-${p.encryption.keySize}`, p.integrity, p.prf, p.dhGroup, ...additional].filter(Boolean).join('/');
  const ext = ike.extensions;
  const extensions = [
    ext.natLocal || ext.natRemote ? `NAT-T(${[ext.natLocal ? 'local' : '', ext.natRemote ? 'remote' : ''].filter(Boolean).join('+')})` : '',
    ext.mobike ? 'MOBIKE' : '',
    ext.messageIdSync ? 'MSGID-SYNC' : '',
    ext.replayCounterSync ? 'REPLAY-SYNC' : '',
  ].filter(Boolean);
  const times = [`established ${relative(ike.times.established, nowSeconds)}`];
  if (ike.times.rekey !== undefined) times.push(`rekey ${relative(ike.times.rekey, nowSeconds)}`);
  if (ike.times.reauth !== undefined) times.push(`reauth ${relative(ike.times.reauth, nowSeconds)}`);
  if (ike.times.expires !== undefined) times.push(`expires ${relative(ike.times.expires, nowSeconds)}`);
  const keys = [
    secretLine('SK_d', ike.keys.skD, showKeys),
    secretLine('SK_ai', ike.keys.skAi, showKeys),
    secretLine('SK_ar', ike.keys.skAr, showKeys),
    secretLine('SK_ei', ike.keys.skEi, showKeys),
    secretLine('SK_er', ike.keys.skEr, showKeys),
    secretLine('SK_pi', ike.keys.skPi, showKeys),
    secretLine('SK_pr', ike.keys.skPr, showKeys),
    secretLine('Ni', ike.nonces?.ni, showKeys),
    secretLine('Nr', ike.nonces?.nr, showKeys),
  ].filter((line) => line !== undefined);
  return [
    `${describeIkeSa(ike)} ${ike.role}`,
    `  ${ike.local.address}[${ike.local.port}] ${ike.localIdentity} <-> ${ike.remote.address}[${ike.remote.port}] ${ike.remoteIdentity}`,
    `  ${proposal}, auth ${ike.authentication.local}/${ike.authentication.remote}${extensions.length ? `, ${extensions.join(' ')}` : ''}`,
    `  message ids: next request ${ike.messageIds.nextToSend}, next expected ${ike.messageIds.nextExpected}, window ${ike.messageIds.windowSize}`,
    `  ${times.join(', ')}`,
    ...(showKeys ? keys.map((line) => `  ${line}`) : [`  keys ${keys.map((line) => line.split(' ')[0]).join(' ')} ${HIDDEN}`]),
    ...children.flatMap((child) => renderChild(child, showKeys, nowSeconds, '  ')),
  ];
}

function renderPolicy(policy: Policy): string {
  const templates = policy.templates.map(
    (t) => `${t.protocol} ${t.mode}${t.source ? ` ${t.source} -> ${t.destination}` : ''} reqid ${t.reqid}${t.optional ? ' (optional)' : ''}`,
  );
  return `${describePolicy(policy)} ${policy.action} priority ${policy.priority}${templates.length ? ` tmpl ${templates.join(', ')}` : ''}`;
}

export function renderContext(context: Context, showKeys: boolean, nowMs: number): string[] {
  const nowSeconds = Math.floor(nowMs / 1000);
  const byId = new Map(context.childSas.map((child) => [child.id, child]));
  const lines = [`captured   ${isoTime(context.provenance.capturedAtMs)} from ${context.provenance.source} (${context.provenance.driver})`, ''];
  for (const ike of context.ikeSas) {
    const children = ike.childSaIds.map((id) => byId.get(id)).filter((child): child is ChildSa => child !== undefined);
    lines.push(...renderIke(ike, children, showKeys, nowSeconds), '');
  }
  const loose = context.childSas.filter((child) => child.ikeSaId === undefined);
  if (loose.length) {
    lines.push('CHILD SAs without an IKE SA:', ...loose.flatMap((child) => renderChild(child, showKeys, nowSeconds, '  ')), '');
  }
  lines.push(`policies (${context.policies.length}):`, ...context.policies.map((policy) => `  ${renderPolicy(policy)}`));
  return lines;
}

export function renderPlan(changes: readonly PlannedChange[], prepared: PreparedContext): string[] {
  return [
    ...changes.map((change) => `${change.action.padEnd(7)} ${change.description}`),
    ...prepared.jumps.map((jump) => `seq     ${jump.description}: ${jump.from} -> ${jump.to}`),
    ...prepared.skipped.map((skip) => `skip    ${skip.description}: ${skip.reason}`),
  ];
}

export function summarizeChanges(changes: readonly PlannedChange[]): string {
  const tally = new Map<string, number>();
  for (const change of changes) tally.set(change.action, (tally.get(change.action) ?? 0) + 1);
  const order = ['add', 'update', 'replace', 'keep', 'remove'];
  const parts = order.filter((action) => tally.has(action)).map((action) => `${tally.get(action)} ${action === 'keep' ? 'unchanged' : `${action}${action.endsWith('e') ? 'd' : 'ed'}`}`);
  return parts.length ? parts.join(', ') : 'nothing to change';
}

