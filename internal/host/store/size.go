package store

// SizeBytes is the disk space the store uses (0 once closed), for sous_store_size_bytes.
func (s *Store) SizeBytes() int64 {
	release, err := s.acquire()
	if err != nil {
		return 0
	}
	defer release()
	return int64(s.db.Metrics().DiskSpaceUsage())
}
