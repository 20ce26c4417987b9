export default async function () {
  return await Bun.stdin.text();
}
