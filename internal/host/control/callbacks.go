package control

import (
	"errors"

	"github.com/sous-run/sous/internal/host/store"
)

// callbackOf is the callback state a new record starts with (nil without a URL).
func callbackOf(url string) *store.Callback {
	if url == "" {
		return nil
	}
	return &store.Callback{URL: url, Status: store.CallbackWaiting}
}

// callbackElsewhere hands a record's callback to the control process that queued the
// run: messaging found the invocation id already queued (several control processes
// fire the same schedule tick with the same id), so only that process calls back.
func (s *Service) callbackElsewhere(tenant, id string) {
	_, err := s.store.UpdateCallback(tenant, id, func(cb *store.Callback) {
		cb.Status, cb.NextAt = store.CallbackElsewhere, nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("hand the callback to the process that queued the run", "invocation", id, "error", err)
	}
}
