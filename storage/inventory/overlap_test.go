package inventory

import (
	"errors"
	"testing"
)

// TestOverlapChunks: the parts reach each in order and whole, an error of
// each stops the reading, and an error of the reading is returned after
// the parts read before it.
func TestOverlapChunks(t *testing.T) {
	produce := func(n int, fail error, read *int) licensedFunc {
		return func(_ int, each func([]LicenseUser) error) error {
			for i := range n {
				*read = i + 1
				if err := each([]LicenseUser{{UPN: string(rune('a' + i))}}); err != nil {
					return err
				}
			}
			return fail
		}
	}
	var read int
	var got string
	if err := overlapChunks(produce(5, nil, &read), func(us []LicenseUser) error {
		got += us[0].UPN
		return nil
	}); err != nil || got != "abcde" {
		t.Fatalf("got %q, %v; want abcde, nil", got, err)
	}

	boom := errors.New("boom")
	got = ""
	err := overlapChunks(produce(100, nil, &read), func(us []LicenseUser) error {
		got += us[0].UPN
		if len(got) == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || got != "ab" || read > 3 {
		t.Fatalf("each failing at the second part: got %q, %v, %d parts read; want ab, boom, at most 3", got, err, read)
	}

	got = ""
	fail := errors.New("disk")
	if err := overlapChunks(produce(3, fail, &read), func(us []LicenseUser) error {
		got += us[0].UPN
		return nil
	}); !errors.Is(err, fail) || got != "abc" {
		t.Fatalf("reading failing: got %q, %v; want abc, disk", got, err)
	}
}
