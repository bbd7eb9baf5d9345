/**
 * Text from peers is data. Before it reaches a terminal we remove everything the terminal
 * would interpret: C0/C1 controls (ESC, CSI, OSC introducers, BEL, …), DEL, and bidi
 * overrides that can disguise text. Newlines and tabs survive when `keepNewlines` is set.
 */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const CONTROLS_AND_NEWLINES = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function sanitizeForTerminal(text: string, options: { keepNewlines?: boolean } = {}): string {
  return options.keepNewlines ? text.replace(CONTROLS, "") : text.replace(CONTROLS_AND_NEWLINES, " ");
}
