// Package redisconn is what the Redis plugins (messaging-redis, events-redisstream) share:
// the connection settings of their config subtree, dialling with a clear error for a
// malformed URL, a wrong password or an unreachable server, health probing, the
// classification of connection errors for retries and as sdk.ErrUnavailable, key
// segment validation, and their sdk.Base (Plugin).
package redisconn
