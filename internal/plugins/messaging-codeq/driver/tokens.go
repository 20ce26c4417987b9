package driver

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/client"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/token"
)

// mintTTL is the lifetime of minted tokens; each (re)connect mints a fresh one.
const mintTTL = 24 * time.Hour

// tokenFunc returns the configured token, or mints one with scope from jwt_key.
func tokenFunc(c *Config, fixed, subject, scope string) client.TokenFunc {
	return func() (string, error) {
		if fixed != "" {
			return fixed, nil
		}
		if c.JWTKey == "" {
			return "", fmt.Errorf("no %s token: set plugins.messaging.codeq.%s_token or jwt_key", subject, subject)
		}
		return token.Mint([]byte(c.JWTKey), c.Tenant, subject+"-"+hostID(), scope, mintTTL)
	}
}

// hostID names this process: host name and pid.
func hostID() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", h, os.Getpid())
}

// adminTokenFunc returns the token for codeQ's /admin routes (queue stats): admin_token,
// else one minted from jwt_key with scope codeq:admin, else an error naming the key.
func adminTokenFunc(c *Config) client.TokenFunc {
	return func() (string, error) {
		switch {
		case c.AdminToken != "":
			return c.AdminToken, nil
		case c.JWTKey != "":
			return token.Mint([]byte(c.JWTKey), c.Tenant, "admin-"+hostID(), token.ScopeAdmin, mintTTL)
		}
		return "", errors.New("codeQ's queue stats need an admin token (scope codeq:admin or role ADMIN): set plugins.messaging.codeq.admin_token")
	}
}
