package codecheck

// bunImports continues bunScript: it lists each file's static imports with
// Bun's own scanner (type-only imports are gone; dynamic import() and require
// are not checked) and refuses the first that does not resolve. A relative
// import must name a file in the bundle, with Bun's resolution: the path as
// written, with an extension added, .js written for a .ts file, or a
// directory's index file or package.json. A bare specifier must be a Node or
// Bun builtin (node:, bun:, fs, …) or a package in a node_modules directory of
// the bundle at or above the importing file. Absolute paths and #imports are
// left to the runtime, and so are bare specifiers when the bundle has a
// tsconfig.json or jsconfig.json (its "paths" may map them).
const bunImports = `
const {isBuiltin, builtinModules} = require("node:module");
const paths = new Set(req.paths);
const dirs = new Set([""]);
for (const p of req.paths) {
  for (let d = p; d.includes("/"); ) { d = d.slice(0, d.lastIndexOf("/")); dirs.add(d); }
}
const aliased = req.paths.some((p) => /(^|\/)(tsconfig|jsconfig)\.json$/.test(p));
const exts = [".tsx", ".ts", ".jsx", ".js", ".mjs", ".cjs", ".mts", ".cts", ".json", ".node"];
const tsFor = {".js": [".ts", ".tsx"], ".jsx": [".tsx"], ".mjs": [".mts"], ".cjs": [".cts"]};
const dirname = (p) => p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "";
const join = (...ps) => ps.filter(Boolean).join("/");

// normalize resolves . and .. segments; null when the path leaves the bundle.
function normalize(p) {
  const out = [];
  for (const s of p.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") { if (!out.length) return null; out.pop(); continue; }
    out.push(s);
  }
  return out.join("/");
}

function fileExists(p) {
  if (paths.has(p) || exts.some((e) => paths.has(p + e))) return true;
  const dot = p.lastIndexOf(".");
  const ext = dot > p.lastIndexOf("/") ? p.slice(dot) : "";
  return (tsFor[ext] || []).some((e) => paths.has(p.slice(0, dot) + e));
}

function relative(from, spec) {
  const p = normalize(join(dirname(from), spec.replace(/[?#].*$/, "")));
  if (p === null) return "it leaves the bundle";
  if (fileExists(p)) return "";
  if (dirs.has(p) && (paths.has(join(p, "package.json")) || exts.some((e) => paths.has(join(p, "index" + e))))) return "";
  return "no file " + (p || ".") + " (or with .ts, .js, …, or an index file) in the bundle";
}

function packageName(spec) {
  const s = spec.split("/");
  return spec.startsWith("@") ? s.slice(0, 2).join("/") : s[0];
}

function bare(from, spec) {
  if (isBuiltin(spec) || spec.startsWith("bun:") || spec === "bun") return "";
  const name = packageName(spec);
  for (let d = dirname(from); ; d = dirname(d)) {
    if (dirs.has(join(d, "node_modules", name))) return "";
    if (d === "") break;
  }
  return "not a Bun or Node builtin, and no package " + name + " in the bundle's node_modules";
}

function distance(a, b) {
  const row = Array.from({length: b.length + 1}, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]; row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

function suggest(spec) {
  const name = packageName(spec);
  const names = [...builtinModules];
  for (const d of dirs) {
    const m = d.match(/(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)$/);
    if (m) names.push(m[1]);
  }
  let best = "", score = 3;
  for (const n of names) {
    const s = distance(name, n);
    if (s > 0 && s < score && s <= Math.max(1, Math.floor(name.length / 3))) { best = n; score = s; }
  }
  return best ? "; did you mean \"" + best + "\"?" : "";
}

// where is the 1-based line and column of the specifier's first quoted occurrence.
function where(source, spec) {
  let i = -1;
  for (const q of ["\"", "'", "\x60"]) {
    const at = source.indexOf(q + spec + q);
    if (at >= 0 && (i < 0 || at < i)) i = at;
  }
  if (i < 0) return [0, 0];
  const before = source.slice(0, i);
  return [before.split("\n").length, i - before.lastIndexOf("\n")];
}

for (const f of req.files) {
  const {imports} = new Bun.Transpiler({loader: loaderOf(f.path)}).scan(f.source);
  for (const imp of imports) {
    const spec = imp.path;
    if (imp.kind !== "import-statement" || spec.startsWith("/") || spec.startsWith("#")) continue;
    const isRelative = spec === "." || spec === ".." || spec.startsWith("./") || spec.startsWith("../");
    if (!isRelative && aliased) continue;
    const why = isRelative ? relative(f.path, spec) : bare(f.path, spec);
    if (why) {
      const [line, column] = where(f.source, spec);
      report(f.path, line, column, "import \"" + spec + "\" does not resolve (" + why + ")" + (isRelative ? "" : suggest(spec)), "import");
    }
  }
}
`
