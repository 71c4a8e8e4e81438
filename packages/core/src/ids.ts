import { randomBytes } from "node:crypto";

/**
 * Job ids are ULIDs: 48 bits of milliseconds then 80 random bits, in Crockford base32.
 * 26 characters, URL-safe, valid as a NATS subject token and KV key, and they sort by
 * creation time (to the millisecond; ids made in the same millisecond by one process
 * keep their order through the monotonic increment below).
 */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

let lastTime = -1;
let lastRandom: number[] = [];

function encodeTime(ms: number): string {
  let out = "";
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

function freshRandom(): number[] {
  return [...randomBytes(16)].map((b) => b % 32).slice(0, 16);
}

function increment(digits: number[]): number[] {
  const next = [...digits];
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i]! < 31) {
      next[i]! += 1;
      return next;
    }
    next[i] = 0;
  }
  return freshRandom(); // 32^16 ids in one millisecond: start over rather than overflow
}

export function newJobId(now: number = Date.now()): string {
  if (now === lastTime) {
    lastRandom = increment(lastRandom);
  } else {
    lastTime = now;
    lastRandom = freshRandom();
  }
  return encodeTime(now) + lastRandom.map((d) => ALPHABET[d]).join("");
}

export function isJobId(value: string): boolean {
  return ID_PATTERN.test(value);
}

export const JOB_ID_PATTERN = ID_PATTERN.source;
