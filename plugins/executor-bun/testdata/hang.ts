export default async function () {
  const child = Bun.spawn(["sleep", "300"]);
  console.log("child " + child.pid);
  await new Promise(() => {});
}
