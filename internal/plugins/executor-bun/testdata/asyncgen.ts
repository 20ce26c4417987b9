export default async function* () {
  yield "a";
  await Bun.sleep(1);
  yield "b";
  return "end";
}
