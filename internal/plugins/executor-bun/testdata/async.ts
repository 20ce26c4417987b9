export async function handler(input: unknown) {
  await new Promise((r) => setTimeout(r, 5));
  return { async: input };
}
