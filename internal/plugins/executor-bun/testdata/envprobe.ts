import { readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
const proc = crypto.randomUUID();
export default function () {
  const dir = process.env.TMPDIR!;
  const fresh = readdirSync(dir).length === 0;
  writeFileSync(dir + "/probe.txt", "ok");
  return {
    secret: process.env.SOUS_SECRET ?? null, path: process.env.PATH, home: process.env.HOME,
    tmpdir: dir, myvar: process.env.MY_VAR, proc, fresh, wrote: tmpdir() === dir,
  };
}
