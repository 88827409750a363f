// The component runtime has no TextEncoder/TextDecoder: UTF-8 by hand, used for kv and HTTP
// bodies.

/** `text` as UTF-8 bytes. */
export function utf8(text: string): Uint8Array {
  const bytes: number[] = [];
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code < 0x80) {
      bytes.push(code);
    } else if (code < 0x800) {
      bytes.push(0xc0 | (code >> 6), 0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
      bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f));
    } else {
      bytes.push(
        0xf0 | (code >> 18),
        0x80 | ((code >> 12) & 0x3f),
        0x80 | ((code >> 6) & 0x3f),
        0x80 | (code & 0x3f),
      );
    }
  }
  return new Uint8Array(bytes);
}

/** UTF-8 `bytes` as text; a malformed sequence becomes U+FFFD. */
export function fromUtf8(bytes: Uint8Array | ArrayLike<number>): string {
  let out = "";
  let i = 0;
  while (i < bytes.length) {
    const first = bytes[i];
    const extra = first < 0x80 ? 0 : first >= 0xf0 ? 3 : first >= 0xe0 ? 2 : first >= 0xc0 ? 1 : -1;
    let code = extra <= 0 ? first : first & (0x3f >> extra);
    let valid = extra >= 0;
    for (let k = 1; valid && k <= extra; k++) {
      const next = bytes[i + k];
      valid = next !== undefined && (next & 0xc0) === 0x80;
      code = (code << 6) | (next & 0x3f);
    }
    if (valid) {
      out += String.fromCodePoint(code);
      i += extra + 1;
    } else {
      out += "\ufffd";
      i += 1;
    }
  }
  return out;
}
