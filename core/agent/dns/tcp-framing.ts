/** DNS over TCP (RFC 1035 §4.2.2): each message is preceded by its length as two bytes. */

export function frame(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}

/** Whole messages at the start of `buf`, and the bytes of the incomplete one after them. */
export function unframe(buf: Buffer): { messages: Buffer[]; rest: Buffer } {
  const messages: Buffer[] = [];
  let rest = buf;
  while (rest.length >= 2 && rest.length >= 2 + rest.readUInt16BE(0)) {
    messages.push(rest.subarray(2, 2 + rest.readUInt16BE(0)));
    rest = rest.subarray(2 + rest.readUInt16BE(0));
  }
  return { messages, rest };
}
