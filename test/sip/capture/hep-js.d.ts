/** Types for the parts of hep-js 1.0.22 (sipcapture's HEP3 library) the tests use as an independent decoder. */
declare module 'hep-js' {
  export interface HepRcinfo {
    readonly protocolFamily?: number;
    readonly protocol?: number;
    readonly srcIp?: string;
    readonly dstIp?: string;
    readonly srcPort?: number;
    readonly dstPort?: number;
    readonly timeSeconds?: number;
    readonly timeUseconds?: number;
    readonly payloadType?: number;
    readonly captureId?: number;
    readonly capturePass?: string;
    readonly correlation_id?: string;
    readonly hepNodeName?: string;
  }
  export interface HepDecoded {
    readonly rcinfo: HepRcinfo;
    readonly payload: string;
  }
  const hep: {
    /** Decodes one HEP3 packet; false (or undefined) when it is not one. */
    decapsulate(message: Buffer): HepDecoded | false | undefined;
  };
  export default hep;
}
