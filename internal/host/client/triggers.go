package client

import (
	"context"
	"net/url"

	"github.com/sous-run/sous/internal/host/api/wire"
)

func schedulePath(function, id string) string {
	p := "/v1/functions/" + url.PathEscape(function) + "/schedules"
	if id != "" {
		p += "/" + url.PathEscape(id)
	}
	return p
}

// PutSchedule creates or replaces a schedule of function.
func (c *Client) PutSchedule(ctx context.Context, function, id string, req *wire.ScheduleRequest) (*wire.Schedule, error) {
	var out wire.Schedule
	return &out, c.Do(ctx, "PUT", schedulePath(function, id), req, &out)
}

// GetSchedule returns one schedule.
func (c *Client) GetSchedule(ctx context.Context, function, id string) (*wire.Schedule, error) {
	var out wire.Schedule
	return &out, c.Do(ctx, "GET", schedulePath(function, id), nil, &out)
}

// ListSchedules returns the schedules of function ("" for every function).
func (c *Client) ListSchedules(ctx context.Context, function string) ([]*wire.Schedule, error) {
	p := "/v1/schedules"
	if function != "" {
		p = schedulePath(function, "")
	}
	var out wire.ScheduleList
	return out.Schedules, c.Do(ctx, "GET", p, nil, &out)
}

// DeleteSchedule removes a schedule.
func (c *Client) DeleteSchedule(ctx context.Context, function, id string) error {
	return c.Do(ctx, "DELETE", schedulePath(function, id), nil, nil)
}

// WebhookSecret returns the tenant's webhook signing secret; rotate replaces it first.
func (c *Client) WebhookSecret(ctx context.Context, rotate bool) (*wire.WebhookSecret, error) {
	var out wire.WebhookSecret
	if rotate {
		return &out, c.Do(ctx, "POST", "/v1/webhooks/secret/rotate", nil, &out)
	}
	return &out, c.Do(ctx, "GET", "/v1/webhooks/secret", nil, &out)
}
