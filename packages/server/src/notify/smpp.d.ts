// The `smpp` package ships no types; these cover the parts Tasdiq uses.
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer } from 'node:net';

  export interface Pdu {
    command: string;
    command_status: number;
    sequence_number: number;
    [field: string]: unknown;
    isResponse(): boolean;
    response(options?: Record<string, unknown>): Pdu;
  }

  export interface Session extends EventEmitter {
    readonly socket: import('node:net').Socket;
    send(pdu: Pdu, responseCallback?: (pdu: Pdu) => void, sendCallback?: (pdu: Pdu) => void): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
    bind_transceiver(options: Record<string, unknown>, callback: (pdu: Pdu) => void): boolean;
    bind_transmitter(options: Record<string, unknown>, callback: (pdu: Pdu) => void): boolean;
    bind_receiver(options: Record<string, unknown>, callback: (pdu: Pdu) => void): boolean;
    submit_sm(options: Record<string, unknown>, callback: (pdu: Pdu) => void): boolean;
    enquire_link(options: Record<string, unknown>, callback: (pdu: Pdu) => void): boolean;
    deliver_sm(options: Record<string, unknown>, callback?: (pdu: Pdu) => void): boolean;
    unbind(options: Record<string, unknown>, callback?: (pdu: Pdu) => void): boolean;
  }

  export interface Server extends NetServer {
    readonly sessions: Session[];
  }

  export const PDU: new (command: string, options?: Record<string, unknown>) => Pdu;
  export function connect(options: Record<string, unknown>, listener?: () => void): Session;
  export function createServer(listener: (session: Session) => void): Server;
  export function createServer(options: Record<string, unknown>, listener: (session: Session) => void): Server;
  export const ESME_ROK: number;
  export const ESME_RBINDFAIL: number;
  export const ESME_RTHROTTLED: number;
  export const ESME_RINVDSTADR: number;
  export const ESME_RSYSERR: number;

  const smpp: {
    PDU: typeof PDU;
    connect: typeof connect;
    createServer: typeof createServer;
    ESME_ROK: number;
    ESME_RBINDFAIL: number;
    ESME_RTHROTTLED: number;
    ESME_RINVDSTADR: number;
    ESME_RSYSERR: number;
    ESME_RMSGQFUL: number;
  };
  export default smpp;
}
