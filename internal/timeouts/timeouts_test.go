package timeouts

import (
	"testing"
	"time"
)

func TestParseScale(t *testing.T) {
	for v, want := range map[string]float64{"": 1, "1": 1, "0.05": 0.05} {
		if got, err := ParseScale(v); err != nil || got != want {
			t.Errorf("ParseScale(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"0", "-1", "2", "fast"} {
		if _, err := ParseScale(v); err == nil {
			t.Errorf("ParseScale(%q) accepted", v)
		}
	}
	t.Setenv(ScaleEnv, "")
	if Scale(2*time.Minute) != 2*time.Minute {
		t.Error("without the variable a time-out must be the production one")
	}
}
