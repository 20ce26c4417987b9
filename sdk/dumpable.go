package sdk

import "golang.org/x/sys/unix"

// NotDumpable marks the calling process not dumpable, so processes of the same
// (non-root) user — such as functions run by an executor — cannot read its memory or
// /proc/<pid>/environ. The host and every plugin call it at start.
func NotDumpable() { _ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0) }
