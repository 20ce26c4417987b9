package driver

import (
	"errors"
	"fmt"

	"github.com/sous-run/sous/sdk"
)

// checkTask refuses an Enqueue the contract does not allow, saying what to fix.
func checkTask(t sdk.Task) error {
	switch {
	case t.Tenant == "":
		return fmt.Errorf("enqueue %s: task.tenant is required", t.Command)
	case t.Command == "":
		return errors.New("enqueue: task.command is required (the queue, e.g. sous.run.bun)")
	case t.Delay < 0:
		return fmt.Errorf("enqueue %s: delay_ms %d is negative", t.Command, t.Delay.Milliseconds())
	case t.MaxAttempts < 0:
		return fmt.Errorf("enqueue %s: max_attempts %d is negative (0 means the driver default)", t.Command, t.MaxAttempts)
	}
	return nil
}
