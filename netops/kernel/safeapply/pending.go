package safeapply

// Pending returns the changes waiting for confirmation, every admin's,
// oldest first: the stack a timeout would roll back.
func (e *Engine) Pending() []Outcome {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Outcome, 0, len(e.stack))
	for _, en := range e.stack {
		out = append(out, e.view(en))
	}
	return out
}
