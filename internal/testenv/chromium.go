package testenv

import (
	"os/exec"
	"testing"
)

// Chromium returns the path of a Chromium (Debian package `chromium`, which .ci/run
// installs) for browser tests.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, "chromium (apt-get install chromium)")
	return ""
}
