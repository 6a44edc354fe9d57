// TOTP (RFC 6238) for the browser tests, computed here in Node: HMAC-SHA1 over the 8-byte
// big-endian number of 30-second steps since the epoch, dynamic truncation, 6 digits. The
// server accepts the current step ±1, and each step's code once.

import { createHmac } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Decodes RFC 4648 base32 (spaces, padding and case ignored). */
export function base32Decode(text) {
  const bytes = [];
  let buffer = 0;
  let bits = 0;
  for (const char of String(text).replace(/[\s=]/g, '').toUpperCase()) {
    const value = BASE32.indexOf(char);
    if (value < 0) throw new Error(`not base32: ${char}`);
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >>> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** The 30-second step now (or at `ms`). */
export const totpStep = (ms = Date.now()) => Math.floor(ms / 1000 / 30);

/** The 6-digit code of `secret` (base32) for `step`. */
export function totp(secret, step = totpStep()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const number = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(number % 1_000_000).padStart(6, '0');
}

/** A 6-digit code that is none of the codes the server would accept around `step`. */
export function wrongCode(secret, step = totpStep()) {
  const accepted = new Set([-2, -1, 0, 1, 2, 3].map((delta) => totp(secret, step + delta)));
  for (let candidate = 123456; ; candidate = (candidate + 111_111) % 1_000_000) {
    const code = String(candidate).padStart(6, '0');
    if (!accepted.has(code)) return code;
  }
}
