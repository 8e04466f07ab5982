/**
 * How virtual numbers are matched, everywhere (store, CLI, SIP): the way the SIP server matches
 * AoRs. Kamailio's registrar lower-cases the AoR it binds and looks up (modparam `case_sensitive`
 * 0, its default; C `tolower`, so only A-Z), so `LOBBY` and `lobby` are one account there and must
 * be one number here. Nothing else is folded: percent-escapes are decoded by the SIP reader before
 * this (numbers never hold `%`), and visual separators (`1-001`) or a leading `+` make another AoR
 * for the registrar, so they make another number here.
 */
export function normalizeNumber(number: string): string {
  return lowerAscii(number);
}

/** Lower-cases A-Z only; returns the same string (no allocation) when there is nothing to change. */
export function lowerAscii(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
  }
  return text;
}
