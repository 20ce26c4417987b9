package driver

// codeQ counts an attempt for every claim, every Nack and every lease expiry, and
// dead-letters a task at the Nack (or expiry) that brings attempts to max_attempts.
// Abandon counts nothing itself, but the next claim does. A Sous attempt is one
// delivery, so a run that fails costs codeQ two attempts: the driver asks codeQ for
// twice the Sous max_attempts and reports (attempts+1)/2. A task abandoned in between
// (a closed consumer, a plugin shutdown) shifts the count by half an attempt.

// defaultMaxAttempts is the Sous max_attempts of a task that sets none.
const defaultMaxAttempts = 5

// codeqMaxAttempts is the codeQ max_attempts for a Sous task allowed n deliveries
// (0: the config's max_attempts, else defaultMaxAttempts).
func codeqMaxAttempts(n int32, cfgDefault int) int32 {
	if n <= 0 {
		n = int32(cfgDefault)
	}
	if n <= 0 {
		n = defaultMaxAttempts
	}
	return 2 * n
}

// sousAttempts turns codeQ's attempts (or max_attempts) into Sous deliveries.
func sousAttempts(codeq int32) int32 {
	return (codeq + 1) / 2
}
