package memory

// Len returns the number of keys held.
func Len(s *Store) int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.keys) }

// Entries returns the number of entries held under key, expired or not.
func Entries(s *Store, key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.keys[key]; b != nil {
		return len(b.entries)
	}
	return 0
}
