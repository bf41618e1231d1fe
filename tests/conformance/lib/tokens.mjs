// Schedule tokens are labels like "A#3": user A, issue number 3. The client
// needs real JWTs (AuthenticationManager.scheduleTokenRefetch decodes `iat`
// and `exp`), so a label is wrapped into an unsigned JWT whose payload holds
// the label. The encoding is a pure function of the label and the lifetime:
// the same label always gives the same string, so `isNewAuth` (a string
// comparison in local_state.ts) sees "the same token" exactly when the
// schedule hands out the same label twice.

import { EPOCH_MS } from "./env.mjs";

const b64url = (s) => Buffer.from(s, "utf8").toString("base64url");

export function parseLabel(label) {
  const m = /^([^#]+)(?:#(\d+))?$/.exec(label);
  if (!m) throw new Error(`bad token label ${JSON.stringify(label)} (want "A#3")`);
  return { user: m[1], seq: m[2] === undefined ? 0 : Number(m[2]) };
}

export function encodeToken(label, lifetimeSeconds) {
  const { user } = parseLabel(label);
  const iat = Math.floor(EPOCH_MS / 1000);
  const header = b64url(JSON.stringify({ alg: "none", typ: "JWT" }));
  const payload = b64url(
    JSON.stringify({
      iss: "https://authrace.test",
      aud: "convex",
      sub: user,
      tok: label,
      iat,
      exp: iat + lifetimeSeconds,
    }),
  );
  return `${header}.${payload}.sig`;
}

/** The label inside a token written by encodeToken, or the raw value. */
export function tokenLabel(value) {
  if (typeof value !== "string") return value;
  const parts = value.split(".");
  if (parts.length === 3) {
    try {
      const payload = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
      if (typeof payload.tok === "string") return payload.tok;
    } catch {
      // not ours
    }
  }
  return value;
}
