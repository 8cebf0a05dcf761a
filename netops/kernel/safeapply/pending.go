package safeapply

// Pending returns how many changes wait for confirmation now: the stack
// that a timeout would roll back.
func (e *Engine) Pending() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.stack)
}
