package schedule

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // timezones resolve on machines without a zoneinfo database

	"github.com/robfig/cron/v3"
)

// parser reads standard 5-field cron plus descriptors (@hourly, @every 1m, …).
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// fieldNames name the five fields, for errors.
var fieldNames = []string{"minute", "hour", "day-of-month", "month", "day-of-week"}

// Spec is a parsed cron expression in its timezone.
type Spec struct {
	sched cron.Schedule
	every time.Duration // @every: ticks are multiples of it since the Unix epoch
	loc   *time.Location
}

// FieldError is a cron expression or timezone that does not parse; Field names the
// request field (cron or timezone) and, for cron, which of its five fields.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Parse reads a cron expression (5 fields, or a descriptor such as @hourly or
// @every 10s) and an IANA timezone ("" = UTC).
func Parse(expr, timezone string) (*Spec, error) {
	if timezone == "" {
		timezone = "UTC"
	}
	loc, err := time.LoadLocation(timezone)
	if err != nil {
		return nil, &FieldError{"timezone", fmt.Sprintf("%q is not an IANA timezone like UTC or Europe/Paris", timezone)}
	}
	expr = strings.TrimSpace(expr)
	switch {
	case expr == "":
		return nil, &FieldError{"cron", "is required: 5 fields (minute hour day-of-month month day-of-week) or a descriptor such as @hourly or @every 5m"}
	case strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ="):
		return nil, &FieldError{"cron", "give the timezone in the timezone field, not as a TZ= prefix"}
	}
	if d, ok := strings.CutPrefix(expr, "@every "); ok {
		if every, err := time.ParseDuration(strings.TrimSpace(d)); err == nil && (every < time.Second || every%time.Second != 0) {
			return nil, &FieldError{"cron", fmt.Sprintf("%q: @every takes whole seconds, at least 1s", expr)}
		}
	}
	if !strings.HasPrefix(expr, "@") {
		if err := checkFields(expr); err != nil {
			return nil, err
		}
	}
	s, err := parser.Parse(expr)
	if err != nil {
		return nil, &FieldError{"cron", fmt.Sprintf("%q: %v", expr, err)}
	}
	sp := &Spec{sched: s, loc: loc}
	if d, ok := s.(cron.ConstantDelaySchedule); ok {
		sp.every = d.Delay
	}
	return sp, nil
}

// checkFields parses each of the five fields alone, so an error names the field.
func checkFields(expr string) error {
	fields := strings.Fields(expr)
	if len(fields) != 5 {
		return &FieldError{"cron", fmt.Sprintf("%q has %d fields; want 5 (minute hour day-of-month month day-of-week) or a descriptor such as @hourly", expr, len(fields))}
	}
	for i, f := range fields {
		probe := []string{"*", "*", "*", "*", "*"}
		probe[i] = f
		if _, err := parser.Parse(strings.Join(probe, " ")); err != nil {
			return &FieldError{"cron", fmt.Sprintf("%s field %q: %v", fieldNames[i], f, err)}
		}
	}
	return nil
}

// Next returns the first tick strictly after t. @every ticks are aligned to the Unix
// epoch, so every process computes the same ticks whenever it started.
func (s *Spec) Next(t time.Time) time.Time {
	if s.every > 0 {
		return time.Unix(0, 0).Add((t.Sub(time.Unix(0, 0))/s.every + 1) * s.every).UTC()
	}
	return s.sched.Next(t.In(s.loc)).UTC()
}
