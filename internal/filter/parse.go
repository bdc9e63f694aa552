package filter

// Placeholder signatures; the parser replaces this file.

// ParseRunFilter parses a runs/search filter string.
func ParseRunFilter(s string) ([]Clause, error) { return nil, nil }

// ParseRunOrderBy parses runs/search order_by entries.
func ParseRunOrderBy(list []string) ([]Order, error) { return nil, nil }

// ParseExperimentFilter parses an experiments/search filter string.
func ParseExperimentFilter(s string) ([]Clause, error) { return nil, nil }

// ParseExperimentOrderBy parses experiments/search order_by entries.
func ParseExperimentOrderBy(list []string) ([]Order, error) { return nil, nil }
