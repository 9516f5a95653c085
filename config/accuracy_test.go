package config

import (
	"strings"
	"testing"

	"github.com/erpnext-otp/otp/promise"
)

func TestAccuracyVariables(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr string // the variable named; "" means valid
	}{
		{"defaults", map[string]string{}, ""},
		{"history mode", map[string]string{"OTP_CONFIDENCE_MODE": "history"}, ""},
		{"unknown mode", map[string]string{"OTP_CONFIDENCE_MODE": "magic"}, "OTP_CONFIDENCE_MODE"},
		{"probability above 1", map[string]string{"OTP_CONFIDENCE_HIGH_PROBABILITY": "1.2"}, "OTP_CONFIDENCE_HIGH_PROBABILITY"},
		{"medium above high", map[string]string{"OTP_CONFIDENCE_MEDIUM_PROBABILITY": "0.95"}, "OTP_CONFIDENCE_MEDIUM_PROBABILITY"},
		{"no receipts needed", map[string]string{"OTP_CONFIDENCE_MIN_RECEIPTS": "0"}, "OTP_CONFIDENCE_MIN_RECEIPTS"},
		{"window 0", map[string]string{"OTP_SUPPLIER_WINDOW_DAYS": "0"}, "OTP_SUPPLIER_WINDOW_DAYS"},
		{"negative interval", map[string]string{"OTP_ACCURACY_INTERVAL": "-1m"}, "OTP_ACCURACY_INTERVAL"},
		{"probabilities", map[string]string{"OTP_ACCURACY_PROBABILITIES": "HIGH=0.95, medium=0.8,LOW=0.5"}, ""},
		{"a tier missing", map[string]string{"OTP_ACCURACY_PROBABILITIES": "HIGH=0.95,LOW=0.5"}, "OTP_ACCURACY_PROBABILITIES"},
		{"a bad number", map[string]string{"OTP_ACCURACY_PROBABILITIES": "HIGH=x,MEDIUM=0.8,LOW=0.5"}, "OTP_ACCURACY_PROBABILITIES"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.env)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want one naming %s", err, tc.wantErr)
			}
		})
	}
	c, err := Load(map[string]string{"OTP_CONFIDENCE_MODE": "history", "OTP_ACCURACY_PROBABILITIES": "HIGH=0.95,MEDIUM=0.8,LOW=0.5"})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Rules().Confidence
	if !r.History || r.MinReceipts != 5 || r.HighProbability != 0.9 || r.MediumProbability != 0.6 {
		t.Errorf("history rules %+v", r)
	}
	if p := c.AccuracyProbabilityMap(); p[promise.ConfidenceMedium] != 0.8 || len(p) != 3 {
		t.Errorf("probabilities %v", p)
	}
	d, _ := Load(map[string]string{})
	if d.Rules().Confidence.History {
		t.Error("the default mode is history, want rules")
	}
}
