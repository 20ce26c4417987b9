package harness

import "sort"

// BasePath is the PATH a function sees unless its own vars set one.
const BasePath = "/usr/local/bin:/usr/bin:/bin"

// functionEnv builds a harness process's environment: the function's vars, a minimal
// PATH (a var may replace it), and HOME/TMPDIR (never overridable). Nothing is taken
// from the host's environment.
func functionEnv(vars map[string]string, home, tmp string) []string {
	env := make([]string, 0, len(vars)+3)
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	hasPath := false
	for _, k := range names {
		switch k {
		case "HOME", "TMPDIR":
			continue
		case "PATH":
			hasPath = true
		}
		env = append(env, k+"="+vars[k])
	}
	if !hasPath {
		env = append(env, "PATH="+BasePath)
	}
	return append(env, "HOME="+home, "TMPDIR="+tmp)
}
