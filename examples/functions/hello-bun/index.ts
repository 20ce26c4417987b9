// The smallest Bun function: return a value, it becomes the JSON result.
export default async function (input: { name?: string } | null, ctx: { invocation_id: string; env: string }) {
  return { hello: input?.name ?? "world", runtime: "bun", env: ctx.env };
}
