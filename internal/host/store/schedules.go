package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Schedule is a cron trigger of one function. Its spec (Cron, Timezone, Catchup) is
// checked by the API; the store keeps it and the scheduler's progress (After).
type Schedule struct {
	Tenant    string          `json:"tenant"`
	Function  string          `json:"function"`
	ID        string          `json:"id"`
	Cron      string          `json:"cron"`
	Input     json.RawMessage `json:"input,omitempty"`
	Env       string          `json:"env"`
	Timezone  string          `json:"timezone"`
	Enabled   bool            `json:"enabled"`
	Catchup   string          `json:"catchup"` // none | one
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	// After: every tick at or before it has been handled (fired or skipped).
	After          time.Time  `json:"after"`
	LastTick       *time.Time `json:"last_tick,omitempty"`
	LastInvocation string     `json:"last_invocation,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
}

func schedKey(t, fn, id string) []byte { return key(t, "sched", fn, id) }

// PutSchedule creates or replaces a schedule. A new schedule, a changed cron or
// timezone, and a paused one enabled again start from now: no tick before this call
// fires. It returns the stored schedule and whether it was created.
func (s *Store) PutSchedule(sc *Schedule) (_ *Schedule, created bool, err error) {
	if err := checkTenant(sc.Tenant); err != nil {
		return nil, false, err
	}
	if err := checkName("function name", sc.Function); err != nil {
		return nil, false, err
	}
	if err := checkName("schedule id", sc.ID); err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.GetFunction(sc.Tenant, sc.Function); err != nil {
		return nil, false, err
	}
	now := time.Now().UTC()
	next := *sc
	next.CreatedAt, next.UpdatedAt, next.After = now, now, now
	old, err := s.GetSchedule(sc.Tenant, sc.Function, sc.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		created = true
	case err != nil:
		return nil, false, err
	default:
		next.CreatedAt = old.CreatedAt
		next.LastTick, next.LastInvocation, next.LastError = old.LastTick, old.LastInvocation, old.LastError
		if old.Enabled && old.Cron == sc.Cron && old.Timezone == sc.Timezone {
			next.After = old.After
		}
	}
	if err := s.writeSchedule(&next); err != nil {
		return nil, false, err
	}
	return &next, created, nil
}

func (s *Store) writeSchedule(sc *Schedule) error {
	batch := s.db.NewBatch()
	defer batch.Close()
	if err := setJSON(batch, schedKey(sc.Tenant, sc.Function, sc.ID), sc); err != nil {
		return err
	}
	return s.commit(batch, fmt.Sprintf("schedule %s/%s", sc.Function, sc.ID))
}

// GetSchedule returns one schedule.
func (s *Store) GetSchedule(tenant, fn, id string) (*Schedule, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	var sc Schedule
	if err := s.getJSON(schedKey(tenant, fn, id), &sc, "schedule "+fn+"/"+id); err != nil {
		return nil, err
	}
	return &sc, nil
}

// ListSchedules returns the schedules of a function ("" for every function of tenant).
func (s *Store) ListSchedules(tenant, fn string) ([]*Schedule, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	p := prefix(tenant, "sched")
	if fn != "" {
		p = prefix(tenant, "sched", fn)
	}
	out := []*Schedule{}
	err := s.scanPrefix(p, false, func(_, v []byte) (bool, error) {
		sc := new(Schedule)
		if err := decode(v, sc, "schedule"); err != nil {
			return false, err
		}
		out = append(out, sc)
		return true, nil
	})
	return out, err
}

// AllSchedules returns every schedule of every tenant (the scheduler's view).
func (s *Store) AllSchedules() ([]*Schedule, error) {
	tenants, err := s.tenants()
	if err != nil {
		return nil, err
	}
	var out []*Schedule
	for _, t := range tenants {
		list, err := s.ListSchedules(t, "")
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	return out, nil
}

// DeleteSchedule removes a schedule; ErrNotFound if there is none.
func (s *Store) DeleteSchedule(tenant, fn, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.GetSchedule(tenant, fn, id); err != nil {
		return err
	}
	batch := s.db.NewBatch()
	defer batch.Close()
	if err := batch.Delete(schedKey(tenant, fn, id), nil); err != nil {
		return err
	}
	return s.commit(batch, fmt.Sprintf("delete schedule %s/%s", fn, id))
}

// MarkScheduleTick records that the tick at tick was handled: fired as invocation
// (when id is set) or skipped, with errMsg when it could not fire. After only moves
// forward. A schedule deleted meanwhile is not written back.
func (s *Store) MarkScheduleTick(tenant, fn, schedID string, tick time.Time, invocationID, errMsg string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, err := s.GetSchedule(tenant, fn, schedID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if tick.After(sc.After) {
		sc.After = tick
	}
	if invocationID != "" || errMsg != "" {
		t := tick.UTC()
		sc.LastTick, sc.LastInvocation, sc.LastError = &t, invocationID, errMsg
	}
	return s.writeSchedule(sc)
}
