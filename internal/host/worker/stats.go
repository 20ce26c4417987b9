package worker

// Running is how many tasks the worker is handling now.
func (w *Worker) Running() int {
	w.slotMu.Lock()
	defer w.slotMu.Unlock()
	return w.inFlight
}
