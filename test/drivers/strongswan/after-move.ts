/**
 * The assertions on what scenario-kit's checkCarriesOnAfterMove() recorded, shared by the move
 * tests: after the move, traffic, the client's DPD and B's CHILD and IKE rekeys all work on B,
 * and the client never started over.
 */
import type { ExecutionContext } from 'ava';

export function assertCarriesOnAfterMove(t: ExecutionContext, r: Record<string, unknown>): void {
  t.true(r['pingAfterMove'] as boolean, 'ping after the move');
  t.true(r['clientDpdSent'] as boolean, 'the client sent a DPD');
  t.true(r['gwbDpdAnswered'] as boolean, 'B answered it');
  t.true(r['childRekeyed'] as boolean, 'B rekeyed the CHILD SA');
  t.true(r['pingAfterChildRekey'] as boolean);
  t.true(r['ikeRekeyed'] as boolean, 'B rekeyed the IKE SA');
  t.true(r['clientSeesNewIke'] as boolean, 'the client holds the IKE SA B rekeyed to');
  t.true(r['pingAfterIkeRekey'] as boolean);
  // The client never started over: no IKE_SA_INIT, no IKE_AUTH after A failed.
  t.is(r['clientIkeSaInit'], 0);
  t.is(r['clientIkeAuth'], 0);
}
