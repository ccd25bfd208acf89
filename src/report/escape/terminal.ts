// Text phasegate did not write reaches terminals and the Actions log verbatim unless it passes
// here: an escape sequence in a metric label or a reason could recolour, hide or rewrite what a
// person reads (or set the window title, or write a hyperlink), and a carriage return could
// overwrite a line. In the Actions log a line starting with `::` is a workflow command.

/** Every control character but tab and line feed, and the bidirectional overrides. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

function visible(char: string): string {
  const code = char.charCodeAt(0)
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`
}

/**
 * `text` with every control character (escape, carriage return, backspace, bell, C1, bidi
 * overrides) shown as `\xNN` / `\uNNNN` instead of acted on; tab and line feed stay. An escape
 * sequence therefore prints as its letters: nothing it says can take effect.
 */
export function terminalText(text: string): string {
  return text.replace(CONTROL, visible)
}

/**
 * `text` for the Actions log (core.info): terminalText, and a line that would start with `::`
 * gets a zero-width space between the colons, so it is printed, not run as a workflow command.
 */
export function actionsLogText(text: string): string {
  return terminalText(text).replace(/^(\s*):(?=:)/gm, '$1:\u200b')
}
