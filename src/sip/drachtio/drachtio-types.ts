/**
 * The few parts of drachtio-srf (5.x) this adapter touches, typed by what the JavaScript does.
 * drachtio-srf's bundled declarations drifted from its code (`proxyRequest` is typed `void` but
 * returns a Promise, `source_port` is typed `string` but is a number, there is no `disconnect`
 * event but there is `close`), so nothing outside this folder sees them.
 */

/** An incoming request (drachtio-srf `lib/request.js`). */
export interface DrachtioRequest {
  readonly method: string;
  readonly uri: string;
  /**
   * A header's raw value, looked up by any case or compact form; undefined when absent. Header
   * lines that repeat are joined into one value with `,` (drachtio-srf `sip-parser/parser.js`).
   */
  get(name: string): string | undefined;
  /** The message as drachtio-server passed it on (drachtio-srf keeps it as text). */
  readonly raw: string;
  /**
   * Every header by name, as drachtio-srf parsed them: lower-case names with compact forms
   * expanded (`X-`/`P-` names, and those in DRACHTIO_PRESERVE_HEADER_NAMES, as written), repeated
   * lines joined with `,`.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** Where the request came from; set by drachtio-srf from drachtio-server's message meta. */
  readonly source_address?: string;
  /** A number at run time (parsed from the meta); its declarations say string. */
  readonly source_port?: number | string;
  /** `udp`, `tcp`, `ws`, `wss`, `tls`. */
  readonly protocol?: string;
}

/** The response of an incoming request (drachtio-srf `lib/response.js`). */
export interface DrachtioResponse {
  /** Extra headers go in `options.headers`; repeated names would be joined with `,` by drachtio-srf. */
  send(status: number, reason: string, options: { readonly headers: Record<string, string> }): void;
  /** True once a final response went out (on this object or by an earlier middleware). */
  readonly finalResponseSent: boolean;
}

/**
 * `next(err?)` of drachtio-srf's Connect-style runner. Its declarations type the parameter as the
 * global `Function`; accepting exactly that keeps `srf.use('register', sw.middleware)`
 * type-correct in a TypeScript drachtio application.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- matches drachtio-srf's declared `next: Function`
export type NextFunction = Function;

/** A drachtio-srf middleware: `srf.use(method, middleware)`. */
export type DrachtioMiddleware = (req: DrachtioRequest, res: DrachtioResponse, next: NextFunction) => void;

/** Options of `srf.proxyRequest` that we use. */
export interface ProxyRequestOptions {
  /**
   * drachtio-server adds Record-Route (Path for REGISTER) and stays in the dialog, handling its
   * in-dialog requests itself (RFC 3261 §16.6 step 4).
   */
  readonly recordRoute: boolean;
}

/** What `srf.proxyRequest` resolves with, or hands its callback (`lib/request.js`, `proxy`). */
export interface ProxyResult {
  readonly connected: boolean;
  readonly finalStatus?: number;
}

export type ProxyCallback = (err: unknown, result?: ProxyResult) => void;

export interface SrfConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly secret: string;
  /** drachtio-srf's own reconnect (`lib/wire-protocol.js`); `maxAttempts: 1` turns it off. */
  readonly reconnect?: { readonly maxAttempts?: number };
}

/** The drachtio-srf `Srf` object, outbound-connection mode (`srf.connect`). */
export interface SrfClient {
  /** Starts one connection attempt; the outcome arrives as `connect` or `close` events. */
  connect(options: SrfConnectOptions): void;
  /** Ends the current connection. Throws when there is none (drachtio-srf asserts on its socket). */
  disconnect(): void;
  use(method: string, middleware: DrachtioMiddleware): void;
  /** The callback form (no Promise is made): called once, with the error or with the result on `done`. */
  proxyRequest(req: DrachtioRequest, destination: string, options: ProxyRequestOptions, callback: ProxyCallback): void;
  /** Authenticated (err null) or refused by drachtio-server (err set). */
  on(event: 'connect', listener: (err: Error | null | undefined, hostport?: string, serverVersion?: string) => void): void;
  /** The TCP connection to drachtio-server closed (also after a failed attempt). */
  on(event: 'close', listener: () => void): void;
  /** Must always have a listener: drachtio-srf re-emits socket errors, and an unheard one crashes the process. */
  on(event: 'error', listener: (err: Error) => void): void;
}
