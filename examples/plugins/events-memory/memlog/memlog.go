// Package memlog is the implementation of the events-memory example plugin: an
// in-memory, per-invocation event log serving sdk/proto/events.
package memlog

import (
	"bytes"
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/sdk/envelope"
	basepb "github.com/sous-run/sous/sdk/proto/base"
	eventspb "github.com/sous-run/sous/sdk/proto/events"
)

// Store serves Base and Events from memory.
type Store struct {
	basepb.UnimplementedBaseServer
	eventspb.UnimplementedEventsServer
	log hclog.Logger

	mu   sync.Mutex
	max  int
	logs map[string]*invLog
}

// invLog is one invocation's events. changed is closed and replaced on every change
// so readers can wait for the next event.
type invLog struct {
	events  []*eventspb.Event
	done    bool
	gone    bool
	changed chan struct{}
	expiry  *time.Timer
}

// New returns an empty store; a nil logger logs nothing.
func New(log hclog.Logger) *Store {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Store{log: log, max: 10000, logs: map[string]*invLog{}}
}

// get returns the log of k, creating it; the caller holds s.mu.
func (s *Store) get(k string) *invLog {
	l := s.logs[k]
	if l == nil {
		l = &invLog{changed: make(chan struct{})}
		s.logs[k] = l
	}
	return l
}

func (l *invLog) notify() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// Publish validates and appends envelopes; ids count from 1 per invocation. Nothing
// is stored when any envelope is invalid or the log is already done.
func (s *Store) Publish(_ context.Context, req *eventspb.PublishRequest) (*eventspb.PublishResponse, error) {
	k, err := key(req.Tenant, req.InvocationId)
	if err != nil {
		return nil, err
	}
	types := make([]string, len(req.Envelopes))
	for n, b := range req.Envelopes {
		e, err := envelope.Unmarshal(b)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "envelope %d of %s: %v", n, req.InvocationId, err)
		}
		if n < len(req.Envelopes)-1 && e.Type == envelope.TypeDone {
			return nil, status.Errorf(codes.InvalidArgument, "envelope %d of %s: done must be the last envelope", n, req.InvocationId)
		}
		types[n] = e.Type
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.get(k)
	if l.done {
		return nil, status.Errorf(codes.FailedPrecondition, "invocation %s is done; its log takes no more events", req.InvocationId)
	}
	if len(l.events)+len(req.Envelopes) > s.max {
		return nil, status.Errorf(codes.ResourceExhausted, "invocation %s would exceed max_events %d", req.InvocationId, s.max)
	}
	ids := make([]string, len(req.Envelopes))
	for n, b := range req.Envelopes {
		ids[n] = strconv.Itoa(len(l.events) + 1)
		l.events = append(l.events, &eventspb.Event{Id: ids[n], Envelope: bytes.Clone(b)})
		l.done = types[n] == envelope.TypeDone
	}
	l.notify()
	return &eventspb.PublishResponse{Ids: ids}, nil
}

// Read streams the events after after_id, then (unless no_follow) waits for more
// and ends after done.
func (s *Store) Read(req *eventspb.ReadRequest, out eventspb.Events_ReadServer) error {
	k, err := key(req.Tenant, req.InvocationId)
	if err != nil {
		return err
	}
	after, err := parseID(req.AfterId)
	if err != nil {
		return err
	}
	for {
		s.mu.Lock()
		l := s.logs[k]
		if l == nil && req.NoFollow {
			s.mu.Unlock()
			return nil
		}
		l = s.get(k)
		pending := l.events[min(after, uint64(len(l.events))):]
		done, gone, changed := l.done, l.gone, l.changed
		s.mu.Unlock()
		for _, ev := range pending {
			if err := out.Send(ev); err != nil {
				return err
			}
			after++
		}
		if done || req.NoFollow {
			return nil
		}
		if gone {
			return status.Errorf(codes.NotFound, "invocation %s: log expired", req.InvocationId)
		}
		select {
		case <-changed:
		case <-out.Context().Done():
			return out.Context().Err()
		}
	}
}

// Expire drops the invocation's log ttl_seconds from now (0: now).
func (s *Store) Expire(_ context.Context, req *eventspb.ExpireRequest) (*eventspb.ExpireResponse, error) {
	k, err := key(req.Tenant, req.InvocationId)
	if err != nil {
		return nil, err
	}
	if req.TtlSeconds < 0 {
		return nil, status.Errorf(codes.InvalidArgument, "ttl_seconds %d is negative", req.TtlSeconds)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.get(k)
	if l.expiry != nil {
		l.expiry.Stop()
	}
	l.expiry = time.AfterFunc(time.Duration(req.TtlSeconds)*time.Second, func() { s.drop(k, l) })
	return &eventspb.ExpireResponse{}, nil
}

func (s *Store) drop(k string, l *invLog) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.logs[k] == l {
		delete(s.logs, k)
	}
	l.gone = true
	l.notify()
}

func bytesReader(b []byte) *bytes.Reader {
	if len(b) == 0 {
		b = []byte("{}")
	}
	return bytes.NewReader(b)
}
