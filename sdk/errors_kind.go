package sdk

import "fmt"

// WithKind marks err with one of the error kinds (ErrNotFound, ErrRefused, …) while
// keeping its message as it is: errors.Is(WithKind(ErrNotFound, err), ErrNotFound)
// holds and the host sees err.Error() unchanged. Use it when a message must not gain
// the kind's prefix; otherwise fmt.Errorf("...: %w", sdk.ErrNotFound) is simpler.
func WithKind(kind, err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: kind, err: err}
}

type kindError struct{ kind, err error }

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

// Errorf formats an error of the given kind whose message is exactly the formatted
// text (no kind prefix): sdk.Errorf(sdk.ErrNotFound, "task %s not found", id).
func Errorf(kind error, format string, args ...any) error {
	return WithKind(kind, fmt.Errorf(format, args...))
}
