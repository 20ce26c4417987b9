// Package configs holds the configuration files Sous ships (sous.yaml, redis.yaml,
// codeq.yaml). It has no code; its test loads every file with internal/host/config and hands
// each driver subtree to that driver's own parser, so a typo in a shipped file fails
// `make test`.
package configs
