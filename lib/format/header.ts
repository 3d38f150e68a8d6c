/**
 * The blob preamble and header (docs/FORMAT.md §5.1–§5.2): parsing and writing only.
 *
 *   preamble = "IPSECCTX" ‖ version (u8) ‖ header length (u32, big-endian)
 *   header   = deterministic CBOR map (see `Header`)
 */
import { z } from 'zod';
import { FormatError } from '../errors.js';
import { encodeCanonical } from './cbor-encode.js';
import { decodeCanonical } from './cbor-decode.js';
import { bytes } from '../model/leaves.js';
import { issuesOf } from '../model/validate.js';

export const MAGIC = new TextEncoder().encode('IPSECCTX');
export const FORMAT_VERSION = 1;
export const PREAMBLE_BYTES = MAGIC.byteLength + 1 + 4;
export const MAX_HEADER_BYTES = 1 << 20;
/** A blob never claims more ciphertext than this (1 TiB); the bound keeps arithmetic exact. */
export const MAX_PAYLOAD_BYTES = 2 ** 40;

const Count = z.number().int().min(0).max(0xffff_ffff);

export const Stanza = z.strictObject({
  type: z.string().min(1).max(64),
  body: bytes({ max: 1024 }),
});
export type Stanza = z.infer<typeof Stanza>;

export const Header = z.strictObject({
  id: bytes(16),
  created: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  expires: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  source: z.string().min(1).max(256),
  signer: bytes(64),
  recipients: z.array(Stanza).min(1).max(256),
  counts: z.strictObject({ ikeSas: Count, childSas: Count, policies: Count }),
  payloadSize: z.number().int().min(1).max(MAX_PAYLOAD_BYTES),
});
export type Header = z.infer<typeof Header>;

export function encodePreambleAndHeader(header: Header): Uint8Array {
  const body = encodeCanonical(header);
  const out = new Uint8Array(PREAMBLE_BYTES + body.byteLength);
  out.set(MAGIC, 0);
  out[MAGIC.byteLength] = FORMAT_VERSION;
  new DataView(out.buffer).setUint32(MAGIC.byteLength + 1, body.byteLength, false);
  out.set(body, PREAMBLE_BYTES);
  return out;
}

export interface ParsedHeader {
  header: Header;
  /** Preamble and header bytes exactly as read; the header MAC and signature cover them. */
  headerBytes: Uint8Array;
}

/** @throws FormatError (`format.not_a_blob`, `format.unsupported_version`, `format.truncated`, `format.header`) */
export function parseHeader(blob: Uint8Array): ParsedHeader {
  const magicSeen = blob.subarray(0, MAGIC.byteLength);
  if (Buffer.compare(magicSeen, MAGIC.subarray(0, magicSeen.byteLength)) !== 0) {
    throw new FormatError('format.not_a_blob', 'input is not an ipsec-ctx blob (bad magic)');
  }
  if (blob.byteLength < PREAMBLE_BYTES) throw new FormatError('format.truncated', 'blob is truncated (inside the preamble)');
  const version = blob[MAGIC.byteLength];
  if (version !== FORMAT_VERSION) {
    throw new FormatError('format.unsupported_version', `blob format version ${version} is not supported (this ipsec-ctx reads version ${FORMAT_VERSION})`, {
      hint: 'upgrade ipsec-ctx on this side, or produce the blob with a matching version',
    });
  }
  const length = new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(MAGIC.byteLength + 1, false);
  if (length > MAX_HEADER_BYTES) throw new FormatError('format.header', `header length ${length} exceeds ${MAX_HEADER_BYTES} bytes`);
  if (blob.byteLength < PREAMBLE_BYTES + length) throw new FormatError('format.truncated', 'blob is truncated (inside the header)');
  const headerBytes = blob.subarray(0, PREAMBLE_BYTES + length);
  const decoded = decodeCanonical(headerBytes.subarray(PREAMBLE_BYTES), 'blob header');
  const result = Header.safeParse(decoded);
  if (!result.success) {
    const first = issuesOf(result.error)[0];
    throw new FormatError('format.header', `blob header is malformed at ${first?.path || '(root)'}: ${first?.message ?? 'invalid'}`);
  }
  if (result.data.expires < result.data.created) throw new FormatError('format.header', 'blob header expires before it was created');
  return { header: result.data, headerBytes };
}
