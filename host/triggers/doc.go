// Package triggers holds what starts or follows a run besides a waiting caller:
// completion webhooks (package webhook: a durable outbox delivered with signed POSTs)
// and cron schedules (package schedule). Both write through the store and fire from
// the control process that owns it.
package triggers
