/**
 * Decode and encode one HA sync datagram (docs/strongswan.md §2–§4): `version u8, type u8`,
 * then attributes, each `number u8` + a body whose encoding the number alone fixes.
 *
 * charon stops reading a message at the first attribute it cannot parse (an unknown number,
 * or a body cut short) and still acts on what came before. `decodeMessage` does the same and
 * says where and why it stopped in `stopped`, so a caller can refuse or warn instead of
 * silently losing state; `strict: true` throws instead.
 */
import { FormatError } from '../../errors.js';
import {
  ATTRIBUTE_ENCODINGS,
  type AttributeName,
  type Encoding,
  LAYOUT_VERSION,
  type Layout,
  type MessageType,
  MESSAGE_TYPES,
  attributeName,
  attributeNumber,
  messageTypeName,
} from './protocol.js';
import * as enc from './encodings.js';
import { layoutForVersion } from './version.js';

interface EncodingValues {
  sa: enc.HaIkeSaId;
  id: enc.HaIdentity;
  host: enc.HaHost;
  str: string;
  u8: number;
  u16: number;
  u32: number;
  chunk: Uint8Array;
  u16list: number[];
  spi: Uint8Array;
  cpi: Uint8Array;
  ts: enc.HaTrafficSelector;
}

export type AttributeValue<N extends AttributeName> = EncodingValues[(typeof ATTRIBUTE_ENCODINGS)[N]];

/** One attribute, discriminated by name. */
export type HaAttribute = { [N in AttributeName]: { name: N; value: AttributeValue<N> } }[AttributeName];

export interface HaMessage {
  /** The version byte (3, 4 or 5). */
  version: number;
  /** The attribute numbering used (v3 has two, see protocol.ts). */
  layout: Layout;
  type: MessageType;
  attributes: HaAttribute[];
  /** Where decoding stopped before the end, as charon would: the offset and why. */
  stopped?: { offset: number; attribute: number; reason: 'unknown' | 'truncated' };
}

export interface DecodeOptions {
  /** The numbering for version-3 messages; default `v3` (5.4.0 – 6.0.0). */
  v3Layout?: 'v3' | 'v3-50';
  /** How the sender stores SPIs and CPIs; default `le` (x86, arm64). */
  spiOrder?: enc.ByteOrder;
  /** Throw a FormatError where charon would silently stop reading. */
  strict?: boolean;
}

type Reader = (b: Uint8Array, at: number, order: enc.ByteOrder) => enc.Read<unknown> | undefined;

const READERS: Readonly<Record<Encoding, Reader>> = {
  sa: enc.readIkeSaId,
  id: enc.readIdentity,
  host: enc.readHost,
  str: enc.readString,
  u8: enc.readU8,
  u16: enc.readU16,
  u32: enc.readU32,
  chunk: enc.readChunk,
  u16list: enc.readU16List,
  spi: (b, at, order) => enc.readSwapped(b, at, 4, order),
  cpi: (b, at, order) => enc.readSwapped(b, at, 2, order),
  ts: enc.readTrafficSelector,
};

type Writer = (out: number[], value: never, order: enc.ByteOrder) => void;

const WRITERS: Readonly<Record<Encoding, Writer>> = {
  sa: enc.writeIkeSaId,
  id: enc.writeIdentity,
  host: enc.writeHost,
  str: enc.writeString,
  u8: enc.writeU8,
  u16: enc.writeU16,
  u32: enc.writeU32,
  chunk: enc.writeChunk,
  u16list: enc.writeU16List,
  spi: enc.writeSwapped,
  cpi: enc.writeSwapped,
  ts: enc.writeTrafficSelector,
};

/**
 * @throws FormatError `strongswan.truncated` (shorter than the header),
 *   `strongswan.version_unsupported`, `strongswan.unknown_type`, and with `strict`
 *   `strongswan.unknown_attribute` or `strongswan.truncated_attribute`
 */
export function decodeMessage(datagram: Uint8Array, options: DecodeOptions = {}): HaMessage {
  if (datagram.length < 2) throw new FormatError('strongswan.truncated', `HA message of ${datagram.length} bytes is shorter than its 2-byte header`);
  const version = datagram[0] as number;
  const layout = layoutForVersion(version, options.v3Layout);
  const typeNumber = datagram[1] as number;
  const type = messageTypeName(typeNumber);
  if (!type) throw new FormatError('strongswan.unknown_type', `HA message type ${typeNumber} is not defined in protocol version ${version}`);
  const order = options.spiOrder ?? 'le';
  const attributes: HaAttribute[] = [];
  const message: HaMessage = { version, layout, type, attributes };

  let at = 2;
  while (at < datagram.length) {
    const number = datagram[at] as number;
    const name = attributeName(layout, number);
    const read = name === undefined ? undefined : READERS[ATTRIBUTE_ENCODINGS[name]](datagram, at + 1, order);
    if (name === undefined || read === undefined) {
      const reason = name === undefined ? 'unknown' : 'truncated';
      if (options.strict) {
        throw new FormatError(
          `strongswan.${reason}_attribute`,
          name === undefined
            ? `HA ${type} message: attribute number ${number} at offset ${at} is not defined in layout ${layout}`
            : `HA ${type} message: attribute ${name} at offset ${at} is cut short`,
        );
      }
      message.stopped = { offset: at, attribute: number, reason };
      break;
    }
    attributes.push({ name, value: read.value } as HaAttribute);
    at += 1 + read.size;
  }
  return message;
}

export interface EncodeOptions {
  spiOrder?: enc.ByteOrder;
}

/**
 * Encodes a message in its layout's numbering.
 * @throws FormatError `strongswan.attribute_not_in_layout` when the layout cannot express an attribute
 */
export function encodeMessage(message: Pick<HaMessage, 'layout' | 'type' | 'attributes'>, options: EncodeOptions = {}): Uint8Array {
  const out: number[] = [LAYOUT_VERSION[message.layout], MESSAGE_TYPES[message.type]];
  const order = options.spiOrder ?? 'le';
  for (const attribute of message.attributes) {
    const number = attributeNumber(message.layout, attribute.name);
    if (number === undefined) {
      throw new FormatError('strongswan.attribute_not_in_layout', `HA protocol layout ${message.layout} has no ${attribute.name} attribute`);
    }
    out.push(number);
    WRITERS[ATTRIBUTE_ENCODINGS[attribute.name]](out, attribute.value as never, order);
  }
  return Uint8Array.from(out);
}

/** All values of one attribute, in message order. */
export function valuesOf<N extends AttributeName>(message: Pick<HaMessage, 'attributes'>, name: N): AttributeValue<N>[] {
  return message.attributes.filter((a) => a.name === name).map((a) => a.value as AttributeValue<N>);
}

/** The first value of one attribute, or undefined. */
export function valueOf<N extends AttributeName>(message: Pick<HaMessage, 'attributes'>, name: N): AttributeValue<N> | undefined {
  return message.attributes.find((a) => a.name === name)?.value as AttributeValue<N> | undefined;
}
