// Package fakes holds in-memory fakes of the SDK's interfaces (sdk.Messaging with its
// Consumer, sdk.EventLog, sdk.Executor) for unit tests of the host's roles. Each fake
// takes a Hook that every call passes through first, so a test can make a call hang
// (until its context ends) or fail.
package fakes

import (
	"context"
	"testing"
	"time"

	"github.com/sous-run/sous/sdk"
)

// Hook is called at the start of every call with the call's name ("Ack", "Publish",
// …) and the id it is about (task or invocation; "" for Consume and Stats); a non-nil
// error is the call's answer. A hook that blocks on ctx makes the call hang until the
// caller's deadline.
type Hook func(ctx context.Context, call, id string) error

// Hang is a Hook body that blocks until ctx ends.
func Hang(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// HangOn returns a Hook that makes the calls named hang until their context ends.
func HangOn(name string) Hook {
	return func(ctx context.Context, call, _ string) error {
		if call == name {
			return Hang(ctx)
		}
		return nil
	}
}

// Eventually fails the test if cond does not hold within 5 s (polled every 5 ms).
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// base is the Base part of every fake.
type base struct{ kind string }

func (b base) Info() sdk.Info {
	return sdk.Info{Kind: b.kind, Driver: "fake", Version: "0.0.0", APIVersions: []int{sdk.APIVersion}}
}

func (base) Configure(context.Context, sdk.Config) error { return nil }

func (base) Health(context.Context) sdk.Health { return sdk.Health{Healthy: true} }

// call runs a hook if there is one.
func call(ctx context.Context, h Hook, name, id string) error {
	if h == nil {
		return nil
	}
	return h(ctx, name, id)
}
