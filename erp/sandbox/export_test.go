package sandbox

// Touch records a change to the store, as any write does, so the next
// list query is not served from the list cache.
func Touch(s *Sandbox) {
	s.mu.Lock()
	s.changed()
	s.mu.Unlock()
}
