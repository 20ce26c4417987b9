export default async function (input: any) {
  const child = Bun.spawn(["sleep", input?.sleep ?? "300"]);
  console.log("child " + child.pid);
  await new Promise(() => {});
}
