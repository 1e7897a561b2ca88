package memory

// Size returns the number of entries held, expired or not.
func Size(x *Index) int { x.mu.Lock(); defer x.mu.Unlock(); return x.size }
