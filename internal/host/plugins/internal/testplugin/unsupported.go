package main

import (
	"context"
	"fmt"
	"time"

	"github.com/sous-run/sous/sdk"
)

// unsupported is a messaging or executor plugin that serves Base only: every other
// call is ErrUnsupported.
type unsupported struct{ *base }

func (u unsupported) no(call string) error { return fmt.Errorf("%s: %w", call, sdk.ErrUnsupported) }

func (u unsupported) Enqueue(context.Context, sdk.Task) (sdk.Enqueued, error) {
	return sdk.Enqueued{}, u.no("Enqueue")
}
func (u unsupported) Consume(context.Context, sdk.Subscription) (sdk.Consumer, error) {
	return nil, u.no("Consume")
}
func (u unsupported) Ack(context.Context, sdk.Lease, []byte) error { return u.no("Ack") }
func (u unsupported) Fail(context.Context, sdk.Lease, string, bool) (bool, error) {
	return false, u.no("Fail")
}
func (u unsupported) Nack(context.Context, sdk.Lease, time.Duration, string) (bool, error) {
	return false, u.no("Nack")
}
func (u unsupported) Extend(context.Context, sdk.Lease, time.Duration) (time.Time, error) {
	return time.Time{}, u.no("Extend")
}
func (u unsupported) Result(context.Context, string, string) (sdk.TaskResult, error) {
	return sdk.TaskResult{}, u.no("Result")
}
func (u unsupported) Stats(context.Context, string, []string) ([]sdk.CommandStats, error) {
	return nil, u.no("Stats")
}
func (u unsupported) Prepare(context.Context, sdk.FunctionSpec) (bool, error) {
	return false, u.no("Prepare")
}
func (u unsupported) Run(context.Context, sdk.RunRequest, func([]byte) error) error {
	return u.no("Run")
}
