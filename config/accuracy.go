package config

import (
	"strconv"
	"strings"

	"github.com/erpnext-otp/otp/promise"
)

// Confidence modes (OTP_CONFIDENCE_MODE).
const (
	ConfidenceRules   = "rules"
	ConfidenceHistory = "history"
)

// validateAccuracy checks the accuracy and calibrated-confidence variables
// and parses OTP_ACCURACY_PROBABILITIES.
func (c *Config) validateAccuracy(bad func(v, format string, args ...any)) {
	switch c.ConfidenceMode {
	case ConfidenceRules, ConfidenceHistory:
	default:
		bad("OTP_CONFIDENCE_MODE", "%q is not one of rules, history", c.ConfidenceMode)
	}
	if c.ConfidenceMinReceipts < 1 {
		bad("OTP_CONFIDENCE_MIN_RECEIPTS", "must be at least 1, got %d", c.ConfidenceMinReceipts)
	}
	for _, p := range []struct {
		v   string
		val float64
	}{
		{"OTP_CONFIDENCE_HIGH_PROBABILITY", c.ConfidenceHighProbability},
		{"OTP_CONFIDENCE_MEDIUM_PROBABILITY", c.ConfidenceMediumProbability},
	} {
		if !(p.val >= 0 && p.val <= 1) {
			bad(p.v, "must be a probability between 0 and 1, got %v", p.val)
		}
	}
	if c.ConfidenceMediumProbability > c.ConfidenceHighProbability {
		bad("OTP_CONFIDENCE_MEDIUM_PROBABILITY", "%v is above OTP_CONFIDENCE_HIGH_PROBABILITY %v",
			c.ConfidenceMediumProbability, c.ConfidenceHighProbability)
	}
	if c.SupplierWindowDays < 1 || c.SupplierWindowDays > 3660 {
		bad("OTP_SUPPLIER_WINDOW_DAYS", "must be between 1 and 3660 days, got %d", c.SupplierWindowDays)
	}
	if c.AccuracyInterval < 0 {
		bad("OTP_ACCURACY_INTERVAL", "must not be negative, got %v", c.AccuracyInterval)
	}
	if c.AccuracyWindowDays < 1 || c.AccuracyWindowDays > 3660 {
		bad("OTP_ACCURACY_WINDOW_DAYS", "must be between 1 and 3660 days, got %d", c.AccuracyWindowDays)
	}
	probs, err := parseProbabilities(c.AccuracyProbabilities)
	if err != "" {
		bad("OTP_ACCURACY_PROBABILITIES", "%s", err)
	}
	c.probs = probs
}

// parseProbabilities reads "HIGH=0.95,MEDIUM=0.8,LOW=0.5": every tier once.
func parseProbabilities(s string) (map[promise.Confidence]float64, string) {
	if strings.TrimSpace(s) == "" {
		return nil, ""
	}
	out := map[promise.Confidence]float64{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		tier := promise.Confidence(strings.ToUpper(strings.TrimSpace(k)))
		switch tier {
		case promise.ConfidenceHigh, promise.ConfidenceMedium, promise.ConfidenceLow:
		default:
			return nil, "want HIGH=p,MEDIUM=p,LOW=p, got " + strconv.Quote(part)
		}
		p, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if !ok || err != nil || !(p >= 0 && p <= 1) {
			return nil, "probability of " + string(tier) + " must be between 0 and 1, got " + strconv.Quote(v)
		}
		if _, dup := out[tier]; dup {
			return nil, string(tier) + " given twice"
		}
		out[tier] = p
	}
	if len(out) != 3 {
		return nil, "give all three tiers: HIGH=p,MEDIUM=p,LOW=p"
	}
	return out, ""
}

// historyRules sets the history-mode fields of the confidence rules.
func (c Config) historyRules(r *promise.ConfidenceRules) {
	r.History = c.ConfidenceMode == ConfidenceHistory
	r.MinReceipts = c.ConfidenceMinReceipts
	r.HighProbability = c.ConfidenceHighProbability
	r.MediumProbability = c.ConfidenceMediumProbability
}

// AccuracyProbabilityMap returns OTP_ACCURACY_PROBABILITIES parsed; nil
// means the Brier score uses each tier's hit rate.
func (c Config) AccuracyProbabilityMap() map[promise.Confidence]float64 { return c.probs }
