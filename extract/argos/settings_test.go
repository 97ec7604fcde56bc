package argos_test

import (
	"errors"
	"testing"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/internal/window"
)

func TestConfigure(t *testing.T) {
	s := window.Settings{URL: "https://api.example.com", Key: "k", DailyCalls: 1234}
	e, err := argos.Configure(s)
	if err != nil {
		t.Fatal(err)
	}
	if e.Budget().Limit() != 1234 {
		t.Errorf("budget of %d calls, want 1234", e.Budget().Limit())
	}
	s.DailyCalls = 0
	if e, err = argos.Configure(s); err != nil || e.Budget().Limit() != argos.DefaultDailyCalls {
		t.Errorf("no daily calls: %v, want the default budget", err)
	}

	s.DailyCalls = argos.MinDailyCalls - 1
	s.URL = "not a URL"
	_, err = argos.Configure(s)
	var se *window.SettingError
	if !errors.As(err, &se) || se.Setting != "DailyCalls" || !errors.Is(err, argos.ErrBudgetTooSmall) {
		t.Errorf("a budget below a day: %v, want a *SettingError of DailyCalls, ErrBudgetTooSmall, before the URL's", err)
	}
	s.DailyCalls = 0
	if _, err = argos.Configure(s); !errors.Is(err, argos.ErrAPIURL) {
		t.Errorf("a bad URL: %v, want ErrAPIURL", err)
	}
}
