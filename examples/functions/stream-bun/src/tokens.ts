// A relative import, to show a function may span several files.
export function tokenize(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}
