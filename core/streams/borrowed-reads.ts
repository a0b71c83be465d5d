/**
 * Reads a socket into one reused buffer (the `onread` option of net.connect / tls.connect) instead of a
 * fresh ArrayBuffer per read. Node otherwise allocates 64 KiB per TCP read and 16 KiB per TLS record;
 * at exec-stream rates (≈100 MiB/s) that external memory made V8 run several full mark-compact
 * collections per 100 MiB in the API server and in the agent (a third to a half of their CPU for a
 * transfer; docs/benchmarks.md, streams). The bytes handed to the sink are only valid during the call:
 * a sink copies what it keeps (SlabWriter copies into reused slabs).
 */
import type { Socket } from 'node:net';

/** Receives borrowed bytes; returning false pauses the socket until `resume()`. */
export type BorrowedSink = (bytes: Buffer) => boolean;

const READ_BUFFER = 64 * 1024;

export class BorrowedReads {
  /** Pass as `onread` when creating the socket. */
  readonly onread: { buffer: Buffer; callback: (n: number, buf: Buffer) => boolean };
  private socket: Socket | undefined;
  private sink: BorrowedSink | undefined;
  /** Copies of bytes read while no sink was set (or put back with `unshift`), delivered first. */
  private held: Buffer[] = [];

  constructor(size = READ_BUFFER) {
    this.onread = {
      buffer: Buffer.allocUnsafeSlow(size),
      callback: (n, buf) => this.deliver(buf.subarray(0, n)),
    };
  }

  /**
   * The socket these reads belong to (to pause and resume it). It is put in flowing mode: with
   * `onread` no 'data' is emitted, and 'end' comes only to a flowing stream.
   */
  attach(socket: Socket): void {
    this.socket = socket;
    socket.resume();
  }

  /** Bytes to deliver before anything read later (e.g. what followed an HTTP response head). */
  unshift(bytes: Buffer): void {
    if (bytes.length) this.held.unshift(Buffer.from(bytes));
  }

  /** Sends reads to `sink` from now on, starting with the held bytes. */
  setSink(sink: BorrowedSink): void {
    this.sink = sink;
    let ok = true;
    for (const b of this.held.splice(0)) ok = sink(b) && ok;
    if (!ok) this.socket?.pause();
  }

  /** Holds reads from now on, until the next `setSink`. */
  release(): void {
    this.sink = undefined;
  }

  /** Resumes a socket paused by a sink. */
  resume(): void {
    if (this.socket && !this.socket.destroyed) this.socket.resume();
  }

  private deliver(bytes: Buffer): boolean {
    if (!this.sink) {
      this.held.push(Buffer.from(bytes));
      return true;
    }
    return this.sink(bytes);
  }
}
