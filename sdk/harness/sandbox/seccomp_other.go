//go:build !amd64 && !arm64

package sandbox

// No filter is built here: installFilter fails, and so does every jail.
const (
	auditArch = 0
	x32Bit    = 0
)
