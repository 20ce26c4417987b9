package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseNamesTheBadField(t *testing.T) {
	for _, c := range []struct{ expr, tz, field, want string }{
		{"61 * * * *", "", "cron", "minute field"},
		{"* 25 * * *", "", "cron", "hour field"},
		{"* * 0 * *", "", "cron", "day-of-month field"},
		{"* * * 13 *", "", "cron", "month field"},
		{"* * * * 8", "", "cron", "day-of-week field"},
		{"* * * *", "", "cron", "has 4 fields"},
		{"@sometimes", "", "cron", "@sometimes"},
		{"@every 10ms", "", "cron", "whole seconds"},
		{"", "", "cron", "is required"},
		{"@hourly", "Mars/Olympus", "timezone", "IANA"},
	} {
		_, err := Parse(c.expr, c.tz)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q, %q) = %v; want a %s error mentioning %q", c.expr, c.tz, err, c.field, c.want)
		}
	}
	for _, ok := range []string{"*/5 * * * *", "0 9 * * MON-FRI", "@hourly", "@daily", "@every 1s", "@every 1h30m"} {
		if _, err := Parse(ok, "Europe/Paris"); err != nil {
			t.Errorf("Parse(%q): %v", ok, err)
		}
	}
}

func TestEveryTicksAreAlignedToTheEpoch(t *testing.T) {
	s, err := Parse("@every 5s", "")
	if err != nil {
		t.Fatal(err)
	}
	a := s.Next(time.Unix(1000, 300))
	b := s.Next(time.Unix(1003, 0))
	if !a.Equal(time.Unix(1005, 0)) || !b.Equal(a) {
		t.Fatalf("@every 5s after 1000.0000003 and 1003: %v, %v; want both 1005", a.Unix(), b.Unix())
	}
}

func TestDueTickIsTheLatestMissedOne(t *testing.T) {
	s, _ := Parse("*/10 * * * *", "")
	after := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	now := time.Date(2026, 1, 1, 10, 35, 0, 0, time.UTC)
	due, next := dueTick(s, after, now)
	if !due.Equal(after.Add(30*time.Minute)) || !next.Equal(after.Add(40*time.Minute)) {
		t.Fatalf("due %v next %v", due, next)
	}
	due, next = dueTick(s, now, now)
	if !due.IsZero() || !next.Equal(after.Add(40*time.Minute)) {
		t.Fatalf("nothing due: got due %v next %v", due, next)
	}
	e, _ := Parse("@every 1s", "")
	due, _ = dueTick(e, time.Unix(0, 0), time.Unix(1_000_000_000, 500))
	if due.Unix() != 1_000_000_000 {
		t.Fatalf("@every after a long gap: due %v", due.Unix())
	}
}
