import { hashHex } from './hash.js';
import type { Flow } from '../transports/flow.js';
import type { SipMessage } from '../message/sip-message.js';

/** RFC 3261 §8.1.1.7 magic cookie, followed by our mark so that our Vias are recognised. */
export const BRANCH_PREFIX = 'z9hG4bKsw';
/** Prefix of the To tags the proxy generates for its own replies. */
export const LOCAL_TAG_PREFIX = 'sw';

/**
 * The branch of the Via the proxy adds, computed statelessly (RFC 3261 §16.11): a hash of the
 * incoming top Via branch and the flow it came on, so a retransmission, the CANCEL and the
 * non-2xx ACK of an INVITE (which carry the INVITE's branch, §9.1, §17.1.1.3) get the same branch,
 * while an ACK for a 2xx, a new transaction with its own branch, gets a new one. For RFC 2543
 * peers without the magic cookie, the fields §16.11 lists are hashed instead.
 */
export function statelessBranch(request: SipMessage, source: Flow): string {
  const via = request.topVia;
  const incoming = via?.branch ?? '';
  let input: string;
  if (incoming.startsWith('z9hG4bK')) {
    input = `${source.transport} ${source.address} ${source.port} ${incoming}`;
  } else {
    input = `${source.transport} ${source.address} ${source.port} ${via?.text ?? ''} ${request.toTag ?? ''} ${request.fromTag ?? ''} ${request.callId ?? ''} ${request.cseq?.seq ?? ''} ${request.requestUri}`;
  }
  return BRANCH_PREFIX + hashHex(input);
}

/**
 * The To tag of a reply the proxy generates (RFC 3261 §8.2.6.2), derived from Call-ID, CSeq number
 * and From tag, so that a retransmission gets the same tag and the ACK of a non-2xx reply can be
 * recognised (and absorbed) without keeping state.
 */
export function localToTag(request: SipMessage): string {
  return LOCAL_TAG_PREFIX + hashHex(`${request.callId ?? ''} ${request.cseq?.seq ?? ''} ${request.fromTag ?? ''}`);
}
