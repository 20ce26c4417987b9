export default function (input: any) {
  const line = "y".repeat(100);
  for (let i = 0; i < input.lines; i++) {
    console.log(line);
    process.stdout.write(line + "\n");
  }
  return "flooded";
}
