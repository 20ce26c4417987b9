package config

import (
	"fmt"
	"regexp"
)

// workerFunctionRe is one worker.functions entry: a function name, or tenant/name.
var workerFunctionRe = regexp.MustCompile(`^([a-z0-9][a-z0-9_-]{0,62}/)?[a-z][a-z0-9-]{1,62}$`)

// checkWorkerFunctions refuses a worker.functions entry that names no function.
func (c *Config) checkWorkerFunctions() error {
	for i, f := range c.Worker.Functions {
		if !workerFunctionRe.MatchString(f) {
			return fmt.Errorf("worker.functions[%d]: %q is not a function name ([a-z][a-z0-9-]{1,62}) or tenant/name (from %s)",
				i, f, c.Source("worker.functions"))
		}
	}
	return nil
}
