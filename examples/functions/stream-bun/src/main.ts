// An async generator: every yield is streamed to the caller as a `chunk` event,
// and the return value is the result.
import { tokenize } from "./tokens.ts";

export default async function* (input: { text?: string; delay_ms?: number } | null) {
  const words = tokenize(input?.text ?? "streams arrive one token at a time");
  for (const w of words) {
    yield w + " ";
    if (input?.delay_ms) await Bun.sleep(input.delay_ms);
  }
  return { tokens: words.length };
}
