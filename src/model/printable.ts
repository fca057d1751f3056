// Text that came from a drain, made safe to print on a terminal: every control
// character becomes a visible escape, so a label value can never move the cursor,
// clear the screen, set the window title, write the clipboard (OSC 52) or start a
// forged row with CR (docs/cli.md, "Output is text").
//
//   C0 U+0000–U+001F (TAB, LF, CR, BS, BEL and ESC included) and DEL U+007F: `\x1b`
//   C1 U+0080–U+009F (CSI U+009B, OSC U+009D, …):                           `\u009b`
//
// One form everywhere text is written for people (logfmt, the log, the table); JSON
// writes its own `\u001b` escapes and jsonLine() adds DEL and C1. A backslash is left
// as it is here; logfmt quotes a value with one and doubles it, so there the escape
// cannot be confused with the four characters `\x1b`.

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
/** DEL and C1: the controls JSON.stringify leaves raw. */
const JSON_RAW = /[\u007f-\u009f]/g;

function escapeOne(c: string): string {
  const code = c.charCodeAt(0);
  const hex = code.toString(16).padStart(2, '0');
  return code >= 0x80 ? `\\u00${hex}` : `\\x${hex}`;
}

/** Whether `text` holds a control character. */
export function hasControl(text: string): boolean {
  return CONTROL.test(text);
}

/** `text` with every C0, DEL and C1 control as a visible escape. */
export function printable(text: string): string {
  return CONTROL.test(text) ? text.replace(CONTROLS, escapeOne) : text;
}

/** JSON.stringify(value), with DEL and C1 escaped as \u007f … \u009f too: still valid JSON, and safe on a terminal. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(JSON_RAW, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}
