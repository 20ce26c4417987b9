package redisconn

import (
	"context"
	"errors"
	"fmt"

	"github.com/sous-run/sous/sdk"
)

// configError marks a Configure failure caused by the config itself (sdk.ErrInvalid),
// keeping its message.
func configError(err error) error { return sdk.WithKind(sdk.ErrInvalid, err) }

// Classify marks a connection-level failure sdk.ErrUnavailable, as "redis unavailable:
// …"; an error that already has a kind, or is the caller's deadline, passes unchanged.
func Classify(err error) error {
	if !IsConnErr(err) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sdk.ErrInvalid) ||
		errors.Is(err, sdk.ErrNotFound) || errors.Is(err, sdk.ErrRefused) {
		return err
	}
	return fmt.Errorf("redis unavailable: %w", sdk.WithKind(sdk.ErrUnavailable, err))
}
