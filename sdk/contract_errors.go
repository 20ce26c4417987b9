package sdk

import (
	"errors"
	"fmt"
)

// Error kinds. A driver wraps one of them (fmt.Errorf("...: %w", sdk.ErrNotFound)) and
// the host sees the same kind through errors.Is, across the process boundary. An error
// that wraps none of them reaches the host as ErrInternal; context.Canceled and
// context.DeadlineExceeded keep their identity too.
var (
	// ErrInvalid: the request (or config) is malformed; retrying it cannot help.
	ErrInvalid = errors.New("invalid argument")
	// ErrNotFound: the task, invocation or lease does not exist.
	ErrNotFound = errors.New("not found")
	// ErrRefused: the request is well formed but the state forbids it (a stale lease,
	// an id the backend did not assign, a second Configure).
	ErrRefused = errors.New("refused")
	// ErrNotConfigured: a call came before Configure succeeded. It wraps ErrRefused.
	ErrNotConfigured = fmt.Errorf("%w: plugin is not configured (Configure first)", ErrRefused)
	// ErrExhausted: a limit was hit (size, quota); the message names it.
	ErrExhausted = errors.New("resource exhausted")
	// ErrUnavailable: the backend cannot be reached now; retrying later may succeed.
	ErrUnavailable = errors.New("unavailable")
	// ErrUnsupported: the driver does not implement this call.
	ErrUnsupported = errors.New("unsupported")
	// ErrInternal: anything else: a bug in the driver or the host.
	ErrInternal = errors.New("internal error")
)

// ConfigError marks a Configure failure caused by the config itself; it wraps
// ErrInvalid, so the host reports it as a bad config.
func ConfigError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
