package queue

import (
	"embed"

	"github.com/redis/go-redis/v9"
)

//go:embed lua/*.lua
var luaFS embed.FS

func script(name string) *redis.Script {
	common, err := luaFS.ReadFile("lua/common.lua")
	if err != nil {
		panic(err)
	}
	body, err := luaFS.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic(err)
	}
	return redis.NewScript(string(common) + "\n" + string(body))
}

// The scripts make every multi-key step atomic: Redis runs a script alone.
var (
	enqueueScript = script("enqueue")
	claimScript   = script("claim")
	ackScript     = script("ack")
	releaseScript = script("release")
	extendScript  = script("extend")
	unleaseScript = script("unlease")
)
