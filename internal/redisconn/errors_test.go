package redisconn

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/sous-run/sous/sdk"
)

func TestClassify(t *testing.T) {
	down := fmt.Errorf("claim: %w", syscall.ECONNREFUSED)
	if err := Classify(down); !errors.Is(err, sdk.ErrUnavailable) || err.Error() != "redis unavailable: "+down.Error() {
		t.Errorf("connection refused -> %v, want ErrUnavailable named redis unavailable", err)
	}
	for _, keep := range []error{
		nil,
		errors.New("ERR wrong number of arguments"),
		fmt.Errorf("op: %w", context.DeadlineExceeded), // a net.Error too, but the caller's deadline
		sdk.Errorf(sdk.ErrNotFound, "task %s: %v", "t1", syscall.ECONNRESET),
	} {
		if got := Classify(keep); got != keep {
			t.Errorf("Classify(%v) = %v, want it unchanged", keep, got)
		}
	}
}
