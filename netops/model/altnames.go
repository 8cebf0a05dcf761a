package model

// AltNames returns every link's alternative names by index (nil for a
// link without any), for a re-dump that looks for the changes the kernel
// does not announce.
func (s *Store) AltNames() map[int32][]string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[int32][]string, len(s.links))
	for idx, l := range s.links {
		out[idx] = l.AltNames
	}
	return out
}
