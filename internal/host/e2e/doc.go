// Package e2e holds end-to-end tests of the invocation path with real processes:
// `sous serve` hosts in their roles, real plugins, real Redis, real Bun and Python.
package e2e
