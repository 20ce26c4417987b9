package queue

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sous-run/sous/sdk"
)

// Errors of the queue, each of an sdk error kind.
var (
	ErrNotFound = sdk.ErrNotFound
	ErrStale    = sdk.WithKind(sdk.ErrRefused, errors.New("stale lease"))
	ErrInvalid  = sdk.WithKind(sdk.ErrInvalid, errors.New("invalid input"))
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// scriptErr turns a script's NOTFOUND / STALE error reply into ErrNotFound / ErrStale.
func scriptErr(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "NOTFOUND "):
		return fmt.Errorf("%w: %s", ErrNotFound, strings.TrimPrefix(msg, "NOTFOUND "))
	case strings.HasPrefix(msg, "STALE "):
		return fmt.Errorf("%w: %s", ErrStale, strings.TrimPrefix(msg, "STALE "))
	}
	return err
}
