export default function (input: any) {
  console.log("hello " + input.name);
  process.stdout.write("raw " + input.name + "\n");
  return input;
}
