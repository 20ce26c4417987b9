// Package codecheck refuses a deploy whose source does not parse, or whose
// static imports do not resolve: it hands the bundle's Bun or Python files to
// the real runtime's own parser (Bun's transpiler, Python's compile and ast)
// and reports the first error with file, line and column. Nothing of the
// function runs: the runtime only parses, and resolves imports by looking for
// files in the bundle and asking its own finders (never importing) for the rest.
//
// The check runs in the process that serves the deploy (the control role),
// with the runtimes configured for the executors (plugins.executor.bun.bun,
// plugins.executor.python.python) or found the way the executors find them.
// A runtime that cannot be found is skipped with a note in the host log: the
// deploy is then accepted and a syntax error shows up at the first invocation.
package codecheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// Error is a source file that does not parse, or (Kind KindImport) has an
// import that does not resolve.
type Error struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
	Kind    string `json:"kind,omitempty"` // "" (syntax) or KindImport
}

// KindImport marks an Error about an import that does not resolve.
const KindImport = "import"

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
}

// Checker checks bundles. Binaries are resolved once, on first use.
type Checker struct {
	find    map[string]func() (string, error) // runtime -> resolver
	timeout time.Duration
	note    func(runtime string, err error) // told once per runtime that cannot be checked

	mu       sync.Mutex
	resolved map[string]resolution
}

type resolution struct {
	bin string
	err error
}

// New returns a checker whose runtimes are found by the given resolvers
// (runtime name -> func returning the binary), e.g. {"bun": …, "python": …}.
// note, if not nil, is told once per runtime that cannot be checked and why.
func New(find map[string]func() (string, error), note func(runtime string, err error)) *Checker {
	return &Checker{find: find, timeout: 20 * time.Second, note: note, resolved: map[string]resolution{}}
}

// checkers holds, per runtime, which files it parses and how.
var checkers = map[string]struct {
	exts []string
	run  func(ctx context.Context, bin string, req request) (*Error, error)
}{
	"bun":    {exts: []string{".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"}, run: checkBun},
	"python": {exts: []string{".py"}, run: checkPython},
}

type file struct {
	Path   string `json:"path"`
	Source string `json:"source"`
}

// request is what a checker script reads on stdin: the source files (entry
// first) and every path in the bundle, for resolving imports by file existence.
type request struct {
	Entry string   `json:"entry"`
	Files []file   `json:"files"`
	Paths []string `json:"paths"`
}

// Check parses the bundle's source files for runtime, the entry first, then
// resolves their static imports. It returns an *Error for code that does not
// parse or an import that does not resolve, another error when the check
// itself failed, and nil when the code passes or the runtime cannot be
// checked (unknown runtime, binary not found).
func (c *Checker) Check(ctx context.Context, runtime, entry string, files map[string][]byte) error {
	ck, ok := checkers[runtime]
	if !ok {
		return nil
	}
	bin, err := c.binary(runtime)
	if err != nil {
		return nil
	}
	var fs []file
	paths := make([]string, 0, len(files))
	for p, src := range files {
		paths = append(paths, p)
		if p == entry || hasExt(p, ck.exts) {
			fs = append(fs, file{Path: p, Source: string(src)})
		}
	}
	sort.Strings(paths)
	sort.Slice(fs, func(i, j int) bool {
		if (fs[i].Path == entry) != (fs[j].Path == entry) {
			return fs[i].Path == entry
		}
		return fs[i].Path < fs[j].Path
	})
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	perr, err := ck.run(ctx, bin, request{Entry: entry, Files: fs, Paths: paths})
	if err != nil {
		return fmt.Errorf("source check with %s %s: %w", runtime, bin, err)
	}
	if perr != nil {
		return perr
	}
	return nil
}

func hasExt(p string, exts []string) bool {
	e := strings.ToLower(path.Ext(p))
	for _, x := range exts {
		if e == x {
			return true
		}
	}
	return false
}

// binary resolves runtime's binary once.
func (c *Checker) binary(runtime string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.resolved[runtime]; ok {
		return r.bin, r.err
	}
	var r resolution
	if f := c.find[runtime]; f == nil {
		r.err = errors.New("no resolver configured")
	} else {
		r.bin, r.err = f()
	}
	c.resolved[runtime] = r
	if r.err != nil && c.note != nil {
		c.note(runtime, r.err)
	}
	return r.bin, r.err
}

// runParser runs bin args with req as JSON on stdin, in an empty directory
// and environment, and decodes the *Error it prints (nothing = all passed).
func runParser(ctx context.Context, bin string, args []string, req request) (*Error, error) {
	in, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "sous-check-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = tmp
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + tmp, "TMPDIR=" + tmp, "NO_COLOR=1"}
	cmd.Stdin = bytes.NewReader(in)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: %s", err, strings.TrimSpace(errb.String()))
	}
	res := strings.TrimSpace(out.String())
	if res == "" {
		return nil, nil
	}
	var e Error
	if err := json.Unmarshal([]byte(res), &e); err != nil {
		return nil, fmt.Errorf("unreadable answer %q: %w", res, err)
	}
	return &e, nil
}
