/** Public surface of the SIP layer: the embedded proxy, its gate seam, and the message accessors. */
export { startEmbeddedProxy, type EmbeddedProxy, type EmbeddedProxyOptions, type ListenAddress } from './embedded-proxy.js';
export { createProxy, type Proxy, type ProxyIo, type ProxyListener, type ProxyOptions } from './stateless-proxy.js';
export { FORWARD, type Gate, type GateContext, type GateResult } from './gate.js';
export { parseMessage, MAX_MESSAGE_SIZE, type ParseResult } from './parse-message.js';
export { SipMessage, type CSeq, type HeaderValue } from './sip-message.js';
export { parseUri, type SipUri } from './uri.js';
export { parseNameAddr, type NameAddr } from './name-addr.js';
export { parseContact, isDeregistration, effectiveExpires, type ContactBinding, type ContactList, type PushParams } from './contact.js';
export { AMBIGUOUS, digestUser } from './digest.js';
export { readAorHost, readAorUser } from './aor.js';
export { canonicalMethod } from './method.js';
export type { Flow, TransportName } from './flow.js';
export type { ExtraHeader } from './local-reply.js';
export type { ProxyStats } from './proxy-stats.js';
