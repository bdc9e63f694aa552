package cli

// SetPageSize changes how many objects one search request asks for and
// returns a function that restores it.
func SetPageSize(n int) (restore func()) {
	old := pageSize
	pageSize = n
	return func() { pageSize = old }
}
