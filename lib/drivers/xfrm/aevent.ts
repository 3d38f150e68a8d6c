/**
 * XFRM_MSG_NEWAE (struct xfrm_aevent_id + XFRMA_REPLAY_VAL or XFRMA_REPLAY_ESN_VAL +
 * XFRMA_LTIME_VAL): sets the sequence counters, the replay window and the usage so far of an SA
 * that is installed, without touching anything else. `put` uses it when the target already
 * holds the SA with the same keys and only the counters move forward, so the live SA is never
 * deleted and re-added (which would drop packets and reset its statistics).
 *
 * The kernel wants NLM_F_REPLACE on it ("NLM_F_REPLACE flag is required", xfrm_new_ae) and a
 * replay state of the same length as the SA's (xfrm_replay_verify_len): same window, same ESN.
 */
import type { ChildSa } from '../../model/child-sa.js';
import { NLM_F_ACK, NLM_F_REQUEST, XFRMA, XFRM_MSG } from './constants.js';
import { familyNumber, writeAddress } from './address.js';
import { LAYOUT } from './layout.js';
import { lifetimeCurFromModel, writeLifetimeCur } from './lifetime.js';
import { type Attribute, LITTLE_ENDIAN, encodeMessage, view } from './netlink.js';
import { encodeReplayEsn, encodeReplayState, sequenceFromModel } from './replay.js';
import { describeChild, encodeMark, protocolNumber } from './sa.js';

const AE = LAYOUT.xfrm_aevent_id;
const SAID = LAYOUT.xfrm_usersa_id;
/** NLM_F_REPLACE (include/uapi/linux/netlink.h), for new requests. */
const NLM_F_REPLACE = 0x100;
/** xfrm_aevent_id.flags: which values the message carries (enum xfrm_ae_ftype_t). */
const XFRM_AE_RVAL = 1;
const XFRM_AE_LVAL = 2;

/** NEWAE that sets `child`'s sequence state and usage on the installed SA of the same identity. */
export function newAeMessage(child: ChildSa, seq = 0): Uint8Array {
  const owner = describeChild(child);
  const body = new Uint8Array(AE.size);
  const dv = view(body);
  writeAddress(body, AE.offsets.sa_id + SAID.offsets.daddr, child.destination);
  body.set(child.spi, AE.offsets.sa_id + SAID.offsets.spi);
  dv.setUint16(AE.offsets.sa_id + SAID.offsets.family, familyNumber(child.family), LITTLE_ENDIAN);
  dv.setUint8(AE.offsets.sa_id + SAID.offsets.proto, protocolNumber(child.protocol));
  writeAddress(body, AE.offsets.saddr, child.source);
  dv.setUint32(AE.offsets.flags, XFRM_AE_RVAL | XFRM_AE_LVAL, LITTLE_ENDIAN);
  dv.setUint32(AE.offsets.reqid, child.reqid >>> 0, LITTLE_ENDIAN);

  const replay = sequenceFromModel(child.sequence, owner);
  const cur = new Uint8Array(LAYOUT.xfrm_lifetime_cur.size);
  writeLifetimeCur(cur, 0, lifetimeCurFromModel(child.lifetime));
  const attributes: Attribute[] = [
    replay.kind === 'legacy' ? { type: XFRMA.REPLAY_VAL, data: encodeReplayState(replay.state) } : { type: XFRMA.REPLAY_ESN_VAL, data: encodeReplayEsn(replay.state) },
    { type: XFRMA.LTIME_VAL, data: cur },
  ];
  // The SA lookup (xfrm_state_lookup) matches the mark.
  if (child.mark) attributes.push({ type: XFRMA.MARK, data: encodeMark(child.mark) });
  return encodeMessage({ type: XFRM_MSG.NEWAE, flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_REPLACE, seq, pid: 0 }, body, attributes);
}
