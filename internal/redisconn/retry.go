package redisconn

import (
	"context"
	"time"
)

// Backoff is an exponential backoff from Min to Max.
type Backoff struct {
	Min, Max time.Duration
	cur      time.Duration
}

// Next returns the next wait and doubles it up to Max.
func (b *Backoff) Next() time.Duration {
	if b.cur == 0 {
		b.cur = b.Min
	}
	d := b.cur
	b.cur *= 2
	if b.cur > b.Max {
		b.cur = b.Max
	}
	return d
}

// Reset starts again from Min.
func (b *Backoff) Reset() { b.cur = 0 }

// Sleep waits d or until ctx is done; false when ctx ended first.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Retry runs op until it succeeds, fails with an error that is not a connection error,
// ctx ends, or within has passed; connection errors are retried with backoff (100 ms to
// 2 s) so a Redis restart does not fail a call that is safe to repeat.
func Retry(ctx context.Context, within time.Duration, op func(context.Context) error) error {
	return RetryIf(ctx, within, IsConnErr, op)
}

// RetryIf is Retry with the test for a retryable error given.
func RetryIf(ctx context.Context, within time.Duration, retryable func(error) bool, op func(context.Context) error) error {
	end := time.Now().Add(within)
	b := Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second}
	for {
		err := op(ctx)
		if err == nil || !retryable(err) || time.Now().After(end) {
			return err
		}
		if !Sleep(ctx, b.Next()) {
			return err
		}
	}
}
