package phone

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in, region, want string
		err              error
	}{
		{"+1 415-555-0100", "", "+14155550100", nil},
		{"(415) 555-0100", "US", "+14155550100", nil},
		{"06 12 34 56 78", "fr", "+33612345678", nil},
		{"+33 6 12 34 56 78", "US", "+33612345678", nil},
		{"  +447911123456 ", "", "+447911123456", nil},
		{"06 12 34 56 78", "", "", ErrNoRegion},
		{"+1 415", "", "", ErrInvalid},
		{"+999 123456789", "", "", ErrInvalid},
		{"not a number", "US", "", ErrInvalid},
		{"", "US", "", ErrInvalid},
		{"+1415555010\x00", "US", "", ErrInvalid},
		{"+" + strings.Repeat("1", 80), "", "", ErrInvalid},
	} {
		got, err := Parse(tc.in, tc.region)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("Parse(%q, %q) = %q, %v; want %q, %v", tc.in, tc.region, got, err, tc.want, tc.err)
		}
	}
}

func TestValidRegionAndKey(t *testing.T) {
	if !ValidRegion("") || !ValidRegion("de") || ValidRegion("XX") {
		t.Error("ValidRegion: want \"\" and \"de\" valid, \"XX\" not")
	}
	if Key("+14155550100") != "tel:+14155550100" {
		t.Errorf("Key = %q", Key("+14155550100"))
	}
}
