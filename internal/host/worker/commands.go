package worker

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
)

// Deployed lists every deployed function the worker may serve (from the store in the
// same process, or from the control role's GET /v1/worker/functions).
type Deployed func(ctx context.Context) ([]invocation.FunctionRef, error)

// errCommandsChanged ends a Consume stream whose command list is out of date.
var errCommandsChanged = errors.New("function commands changed; subscribing again")

// wanted returns the commands to consume now: one per deployed function the worker
// serves (worker.functions; empty means every one) and, for a worker serving every
// function, the runtime queues of earlier releases so tasks queued there still run.
// An entry "tenant/name" names its command even before the function is deployed.
func (w *Worker) wanted(ctx context.Context) ([]string, error) {
	var cmds []string
	byName := map[string]bool{}
	for _, f := range w.opt.Functions {
		if tenant, name, ok := strings.Cut(f, "/"); ok {
			cmds = append(cmds, invocation.FunctionCommand(tenant, name))
		} else {
			byName[f] = true
		}
	}
	if len(w.opt.Functions) == 0 {
		for _, r := range w.opt.Runtimes {
			cmds = append(cmds, invocation.Command(r))
		}
	}
	if w.opt.Deployed != nil && (len(w.opt.Functions) == 0 || len(byName) > 0) {
		refs, err := w.opt.Deployed(ctx)
		if err != nil {
			return nil, err
		}
		for _, f := range refs {
			if len(w.opt.Functions) == 0 || byName[f.Name] {
				cmds = append(cmds, invocation.FunctionCommand(f.Tenant, f.Name))
			}
		}
	}
	slices.Sort(cmds)
	return slices.Compact(cmds), nil
}

// refresh recomputes the command list and reports whether it changed.
func (w *Worker) refresh(ctx context.Context) (bool, error) {
	cmds, err := w.wanted(ctx)
	if err != nil {
		return false, err
	}
	w.cmdMu.Lock()
	defer w.cmdMu.Unlock()
	if slices.Equal(cmds, w.cmds) {
		return false, nil
	}
	w.cmds = cmds
	return true, nil
}

// changed is the current deployed-functions signal (nil, which never fires, without
// Options.Changed).
func (w *Worker) changed() <-chan struct{} {
	if w.opt.Changed == nil {
		return nil
	}
	return w.opt.Changed()
}

// watchCommands lists the deployed functions every Refresh and whenever signal fires,
// until ctx ends, and cancels the stream with errCommandsChanged when its command list
// is out of date.
func (w *Worker) watchCommands(ctx context.Context, cancel context.CancelCauseFunc, signal <-chan struct{}) {
	t := time.NewTicker(w.opt.Refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-signal:
			signal = w.changed() // before listing, like Run
		}
		changed, err := w.refresh(ctx)
		if err != nil {
			w.log.Warn("list deployed functions; keeping the current commands", "error", err)
			continue
		}
		if changed {
			cancel(errCommandsChanged)
			return
		}
	}
}
