package client

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// IgnoreFile lists paths a deploy leaves out, gitignore style.
const IgnoreFile = ".sousignore"

// defaultIgnore is always applied before .sousignore.
var defaultIgnore = []string{".git/", ".sous/", ".DS_Store"}

// Ignore is a compiled .sousignore. Supported syntax (a subset of gitignore):
// blank lines and '#' comments; '!' negates (re-includes); a trailing '/'
// matches directories only; a pattern with a '/' other than a trailing one is
// anchored to the function directory, otherwise it matches the name at any
// depth; '*' and '?' do not cross '/', '**' does. The last matching pattern wins.
type Ignore struct {
	rules []ignoreRule
}

type ignoreRule struct {
	re      *regexp.Regexp
	negate  bool
	dirOnly bool
}

// LoadIgnore reads <dir>/.sousignore (absent = only the defaults).
func LoadIgnore(dir string) (*Ignore, error) {
	lines := append([]string(nil), defaultIgnore...)
	f, err := os.Open(filepath.Join(dir, IgnoreFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", IgnoreFile, err)
	}
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", IgnoreFile, err)
		}
	}
	return ParseIgnore(lines), nil
}

// ParseIgnore compiles gitignore-style lines.
func ParseIgnore(lines []string) *Ignore {
	ig := &Ignore{}
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		var r ignoreRule
		if strings.HasPrefix(l, "!") {
			r.negate, l = true, l[1:]
		}
		if strings.HasSuffix(l, "/") {
			r.dirOnly, l = true, strings.TrimRight(l, "/")
		}
		anchored := strings.Contains(l, "/")
		l = strings.TrimPrefix(l, "/")
		re := globToRegexp(l)
		if !anchored {
			re = "(?:.*/)?" + re
		}
		r.re = regexp.MustCompile("^" + re + "$")
		ig.rules = append(ig.rules, r)
	}
	return ig
}

func globToRegexp(g string) string {
	var b strings.Builder
	for i := 0; i < len(g); i++ {
		switch c := g[i]; {
		case strings.HasPrefix(g[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(g[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

// Match reports whether the slash-separated relative path is ignored.
// Callers skip an ignored directory entirely (like git, a file under an
// ignored directory cannot be re-included).
func (ig *Ignore) Match(rel string, isDir bool) bool {
	ignored := false
	for _, r := range ig.rules {
		if r.dirOnly && !isDir {
			continue
		}
		if r.re.MatchString(rel) {
			ignored = !r.negate
		}
	}
	return ignored
}
