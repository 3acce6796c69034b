package database

import (
	"fmt"
	"regexp"
	"sync"
)

// regexpCacheSize bounds the compiled patterns kept for sqliteRegexp.
const regexpCacheSize = 128

// regexpCache keeps the patterns sqliteRegexp compiled, so that a query matching
// 100,000 rows compiles its pattern once, not once per row.
var regexpCache struct {
	sync.Mutex
	m map[string]*regexp.Regexp
}

// compiledRegexp returns the compiled pattern, from the cache when it is there.
func compiledRegexp(pattern string) (*regexp.Regexp, error) {
	regexpCache.Lock()
	re, ok := regexpCache.m[pattern]
	regexpCache.Unlock()
	if ok {
		return re, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("regexp: %w", err)
	}
	regexpCache.Lock()
	if regexpCache.m == nil || len(regexpCache.m) >= regexpCacheSize {
		regexpCache.m = make(map[string]*regexp.Regexp, regexpCacheSize)
	}
	regexpCache.m[pattern] = re
	regexpCache.Unlock()
	return re, nil
}

// sqliteRegexp is SQLite's regexp(pattern, text), which "text REGEXP pattern" calls
// (SQLite has no REGEXP of its own). The pattern is in Go's syntax (RE2) and runs on Go's
// engine, whose time is linear in the text: no pattern can make it backtrack. A NULL
// text matches nothing (NULL); so does text that is not valid UTF-8 in no special way
// (Go matches it byte by byte as U+FFFD). A pattern that does not compile is an error
// of the statement.
func sqliteRegexp(pattern string, text any) (any, error) {
	var s string
	switch v := text.(type) {
	case nil:
		return nil, nil
	case string:
		s = v
	case []byte:
		if v == nil {
			return nil, nil
		}
		s = string(v)
	default:
		s = fmt.Sprint(v)
	}
	re, err := compiledRegexp(pattern)
	if err != nil {
		return nil, err
	}
	return re.MatchString(s), nil
}
