import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
export default function () {
  const dir = process.env.TMPDIR!;
  writeFileSync(dir + "/probe.txt", "ok");
  return {
    secret: process.env.SOUS_SECRET ?? null, path: process.env.PATH, home: process.env.HOME,
    tmpdir: dir, myvar: process.env.MY_VAR, pid: process.pid, wrote: tmpdir() === dir,
  };
}
