package codecheck

// pythonImports continues pythonScript: it walks each file's ast for import
// statements and refuses the first that resolves neither in the bundle nor in
// the interpreter. Bundle modules resolve by file existence against the roots
// the runner puts on sys.path (the bundle root and the entry's directory):
// name.py, name/ (package or namespace), an extension module; relative imports
// against the importing file's directory. Other names: importlib.util.find_spec
// of the top-level name only, which runs the finders and no module code (a
// dotted name would import its parent). Imports under try/except ImportError
// (or a broader handler) and under "if TYPE_CHECKING" are optional and skipped.
const pythonImports = `
import ast, difflib, importlib.util, os, pkgutil
paths = set(req["paths"])
dirs = {os.path.dirname(p) for p in paths}
for d in list(dirs):
    while d:
        d = os.path.dirname(d)
        dirs.add(d)
roots = [""]
if os.path.dirname(req["entry"]) not in roots:
    roots.append(os.path.dirname(req["entry"]))

def join(*parts):
    return "/".join(p for p in parts if p)

def ext_module(d, name):
    return any(os.path.dirname(p) == d and os.path.basename(p).startswith(name + ".") and p.endswith((".so", ".pyd")) for p in paths)

def in_bundle(base, parts):
    d = base
    for i, name in enumerate(parts):
        last = i == len(parts) - 1
        if join(d, name) in dirs:
            d = join(d, name)
            continue
        return last and (join(d, name + ".py") in paths or ext_module(d, name))
    return True

found = {}
def in_runtime(top):
    if top not in found:
        try:
            found[top] = importlib.util.find_spec(top) is not None
        except (ImportError, ValueError):
            found[top] = False
        except Exception:
            found[top] = True  # a finder's own trouble is not the function's
    return found[top]

OPTIONAL = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
def catches_import_error(handler):
    t = handler.type
    if t is None:
        return True
    names = t.elts if isinstance(t, ast.Tuple) else [t]
    return any((isinstance(n, ast.Name) and n.id in OPTIONAL) or (isinstance(n, ast.Attribute) and n.attr in OPTIONAL) for n in names)

def is_type_checking(test):
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")

def imports(node):
    """The import statements under node that always run (not guarded)."""
    for field, value in ast.iter_fields(node):
        children = value if isinstance(value, list) else [value]
        for c in children:
            if not isinstance(c, ast.AST):
                continue
            if isinstance(c, (ast.Import, ast.ImportFrom)):
                yield c
            elif isinstance(c, ast.If) and is_type_checking(c.test):
                yield from imports(ast.Module(body=c.orelse, type_ignores=[]))
            elif isinstance(c, ast.Try) or type(c).__name__ == "TryStar":
                if not any(catches_import_error(h) for h in c.handlers):
                    yield from imports(ast.Module(body=c.body, type_ignores=[]))
                for part in (c.handlers, c.orelse, c.finalbody):
                    yield from imports(ast.Module(body=part, type_ignores=[]))
            else:
                yield from imports(c)

def known_names():
    names = set(sys.builtin_module_names) | set(getattr(sys, "stdlib_module_names", ()))
    names |= {m.name for m in pkgutil.iter_modules()}
    for p in paths:
        top = p.split("/")[0]
        names.add(top[:-3] if top.endswith(".py") else top)
    return sorted(names)

def refuse(path, node, name, why):
    msg = 'import "%s" does not resolve (%s)' % (name, why)
    close = difflib.get_close_matches(name.lstrip(".").split(".")[0], known_names(), n=1)
    if close and not name.startswith("."):
        msg += '; did you mean "%s"?' % close[0]
    report(path, node.lineno, node.col_offset + 1, msg, "import")

def regular(r, name):
    return join(r, name + ".py") in paths or join(r, name, "__init__.py") in paths or ext_module(r, name)

def check_absolute(path, node, name):
    parts = name.split(".")
    # A namespace directory loses to a regular module anywhere on sys.path.
    local = any(regular(r, parts[0]) for r in roots) or (
        any(join(r, parts[0]) in dirs for r in roots) and not in_runtime(parts[0]))
    if local:
        if not any(in_bundle(r, parts) for r in roots):
            refuse(path, node, name, "no such module in the bundle")
    elif not in_runtime(parts[0]):
        refuse(path, node, name, "no module in the bundle or the Python runtime")

for f in req["files"]:
    if not f["path"].endswith(".py"):
        continue
    tree = ast.parse(f["source"], f["path"])
    for node in imports(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                check_absolute(f["path"], node, a.name)
        elif node.level == 0:
            check_absolute(f["path"], node, node.module)
        else:
            base = os.path.dirname(f["path"])
            for _ in range(node.level - 1):
                if not base:
                    refuse(f["path"], node, "." * node.level + (node.module or ""), "it goes above the bundle's top directory")
                base = os.path.dirname(base)
            if node.module and not in_bundle(base, node.module.split(".")):
                refuse(f["path"], node, "." * node.level + node.module, "no such module next to " + f["path"])
`
