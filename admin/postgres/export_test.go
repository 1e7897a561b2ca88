package postgres

// SearchSQL exposes searchSQL to the EXPLAIN test.
var SearchSQL = searchSQL
