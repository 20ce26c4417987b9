package invocation

import "github.com/sous-run/sous/sdk/envelope"

// Status is the lifecycle state of an invocation: on its record, in a worker's
// outcome, and in every API body that reports one.
type Status string

// Invocation statuses. pending -> running -> succeeded|failed|timeout; pending may go
// straight to a final state; running may go back to pending (redelivery) or stay
// running with a higher attempt. Final states are final.
const (
	StatusPending   Status = "pending"
	StatusRunning   Status = "running"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
	StatusTimeout   Status = "timeout"
)

// Final reports whether s is a terminal status.
func (s Status) Final() bool {
	return s == StatusSucceeded || s == StatusFailed || s == StatusTimeout
}

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool { return s == StatusPending || s == StatusRunning || s.Final() }

// StatusOf is the final status of a run that ended with an error of kind: timeout for
// envelope.KindTimeout, failed for every other kind.
func StatusOf(kind string) Status {
	if kind == envelope.KindTimeout {
		return StatusTimeout
	}
	return StatusFailed
}

// ShowsLogs reports whether a run in environment env shows its log lines to callers:
// only the dev alias does (the worker drops them for any other env).
func ShowsLogs(env string) bool { return env == DevEnv }

// DevEnv is the alias invocations run in by default, and the only one whose log lines
// reach callers.
const DevEnv = "dev"
