package mcp

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/sous-run/sous/internal/host/api/wire"
)

// Stack frames that name a function's own file: Bun "(/…/index.ts:4:9)" or
// "at index.ts:4:9", Python `File "/…/main.py", line 5`.
var (
	jsFrame = regexp.MustCompile(`([\w./@-]+\.(?:ts|tsx|js|mjs|cjs|jsx)):(\d+)(?::\d+)?`)
	pyFrame = regexp.MustCompile(`File "([^"]+\.py)", line (\d+)`)
)

// SourceLine is the innermost "file:line" of the function's own code in a stack
// ("" if none): the last Python frame, or the first JavaScript frame outside the
// harness. Paths are shortened to their last element.
func SourceLine(stack string) string {
	if m := pyFrame.FindAllStringSubmatch(stack, -1); len(m) > 0 {
		for i := len(m) - 1; i >= 0; i-- {
			if !strings.Contains(m[i][1], "runner") {
				return base(m[i][1]) + ":" + m[i][2]
			}
		}
	}
	for _, m := range jsFrame.FindAllStringSubmatch(stack, -1) {
		if !strings.Contains(m[1], "runner") && !strings.Contains(m[1], "node_modules") {
			return base(m[1]) + ":" + m[2]
		}
	}
	return ""
}

func base(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[i+1:]
	}
	return p
}

// failureMessage is what a person needs from a failed run: function, id, kind,
// message and where in the source it happened.
func failureMessage(name string, r *wire.InvokeResult) string {
	msg := fmt.Sprintf("%s failed (%s): %s", name, r.Error.Kind, strings.TrimSpace(r.Error.Message))
	if at := SourceLine(r.Error.Stack); at != "" {
		msg += " at " + at
	}
	return msg + fmt.Sprintf("\ninvocation %s; get_invocation or get_logs have the details", r.InvocationID)
}
