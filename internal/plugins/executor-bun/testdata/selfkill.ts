export default function (input: any) {
  if (input.kill) process.kill(process.pid, "SIGKILL");
  return "alive";
}
