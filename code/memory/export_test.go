package memory

// Len returns the number of records held, expired or not.
func Len(s *Store) int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.recs) }
