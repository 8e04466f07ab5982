/** The drachtio-srf transport adapter: a middleware for existing drachtio apps, and `serve` mode. */
export { sipwardenMiddleware, type SipwardenMiddlewareOptions } from './middleware.js';
export { proxyMiddleware } from './proxy-middleware.js';
export { DrachtioRequestView, originOf } from './request-view.js';
export { startDrachtioServe, PROXIED_METHODS, type DrachtioServe, type DrachtioServeOptions } from './serve.js';
export { DrachtioConnection, reconnectDelay, DEFAULT_RECONNECT, type DrachtioTarget, type ReconnectPolicy } from './connection.js';
export { asSrfClient, createSrf } from './srf.js';
export { upstreamUri, type UpstreamTarget } from './upstream-uri.js';
export type { DrachtioMiddleware, DrachtioRequest, DrachtioResponse, NextFunction, SrfClient } from './drachtio-types.js';
