package argos

import (
	// Named: this package has a type window of its own.
	iw "github.com/kycetl/kycetl/internal/window"
)

// Configure makes the Extractor of a project's settings: a Client of s.URL
// and s.Key, with secure data transfer when s.Secret
// is set, asking for s.PageSize items per page, fetching s.Concurrency API
// days at once and spending from a budget of s.DailyCalls calls per UTC
// day; a zero number keeps the default. The budget is checked first (a
// *SettingError of DailyCalls, of kind ErrBudgetTooSmall), then the
// client's settings (errors of kind ErrAPIURL, ErrAPIKey, ErrSecretKey).
func Configure(s iw.Settings) (*Extractor, error) {
	var extOpts []ExtractorOption
	if s.DailyCalls != 0 {
		b, err := NewBudget(s.DailyCalls)
		if err != nil {
			return nil, &iw.SettingError{Setting: "DailyCalls", Err: err}
		}
		extOpts = append(extOpts, WithBudget(b))
	}
	if s.Concurrency != 0 {
		extOpts = append(extOpts, WithConcurrency(s.Concurrency))
	}
	opts := []ClientOption{WithLogger(s.Log)}
	if s.PageSize != 0 {
		opts = append(opts, WithPageSize(s.PageSize))
	}
	if s.Secret != "" {
		opts = append(opts, WithSecureTransfer(s.Secret))
	}
	c, err := NewClient(s.URL, s.Key, opts...)
	if err != nil {
		return nil, err
	}
	return NewExtractor(c, extOpts...), nil
}
