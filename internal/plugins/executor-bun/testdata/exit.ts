export default function (input: any) {
  if (input.exit) {
    console.log("before exit");
    process.exit(3);
  }
  return "alive";
}
