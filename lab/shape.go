package lab

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/memnet"
)

// Bounds of link shapes.
const (
	// MaxLatency bounds a link's latency and jitter.
	MaxLatency = time.Minute
	// MinBandwidth and MaxBandwidth bound a limited link's bandwidth (bits
	// per second; 0 is unlimited). Below 1 kbit/s one block takes minutes
	// to cross and every message on the link queues behind it: a typo
	// ("10bit" for "10Mbit") rather than a lab.
	MinBandwidth = 1e3
	MaxBandwidth = 1e12
)

// ErrBadShape is returned for a link shape out of range or unparsable.
var ErrBadShape = errors.New("bad link shape")

// Shape is how a link behaves: one-way latency, extra random delay per
// message up to Jitter, the probability a message is lost, and the
// bandwidth (0: unlimited).
type Shape struct {
	Latency   Duration  `yaml:"latency,omitempty" json:"latency,omitempty"`
	Jitter    Duration  `yaml:"jitter,omitempty" json:"jitter,omitempty"`
	Loss      Percent   `yaml:"loss,omitempty" json:"loss,omitempty"`
	Bandwidth Bandwidth `yaml:"bandwidth,omitempty" json:"bandwidth,omitempty"`
}

// Check reports a shape out of range.
func (s Shape) Check() error {
	switch {
	case s.Latency < 0 || time.Duration(s.Latency) > MaxLatency:
		return fmt.Errorf("%w: latency %v not in 0..%v", ErrBadShape, time.Duration(s.Latency), MaxLatency)
	case s.Jitter < 0 || time.Duration(s.Jitter) > MaxLatency:
		return fmt.Errorf("%w: jitter %v not in 0..%v", ErrBadShape, time.Duration(s.Jitter), MaxLatency)
	case !(s.Loss >= 0 && s.Loss <= 1):
		return fmt.Errorf("%w: loss %v not in 0%%..100%%", ErrBadShape, float64(s.Loss)*100)
	case s.Bandwidth != 0 && !(s.Bandwidth >= MinBandwidth && s.Bandwidth <= MaxBandwidth):
		return fmt.Errorf("%w: bandwidth %v bit/s not in %v..%v (0: unlimited)", ErrBadShape, float64(s.Bandwidth),
			Bandwidth(MinBandwidth), Bandwidth(MaxBandwidth))
	}
	return nil
}

// Scale returns the shape with its delays divided by factor and its
// bandwidth multiplied by it (a simulation compressing time by factor
// scales its latencies and transmit times alike, so forking, which depends
// on delay / block time, is unchanged).
func (s Shape) Scale(factor float64) Shape {
	if factor <= 0 {
		return s
	}
	s.Latency = Duration(float64(s.Latency) / factor)
	s.Jitter = Duration(float64(s.Jitter) / factor)
	s.Bandwidth = Bandwidth(float64(s.Bandwidth) * factor)
	return s
}

// String renders the shape as the CLI takes it.
func (s Shape) String() string {
	var parts []string
	parts = append(parts, "delay "+time.Duration(s.Latency).String())
	if s.Jitter > 0 {
		parts = append(parts, "jitter "+time.Duration(s.Jitter).String())
	}
	if s.Loss > 0 {
		parts = append(parts, "loss "+s.Loss.String())
	}
	if s.Bandwidth > 0 {
		parts = append(parts, "bandwidth "+s.Bandwidth.String())
	}
	return strings.Join(parts, ", ")
}

// Duration is a time.Duration written as "200ms" in YAML and JSON.
type Duration time.Duration

// ParseDuration parses "200ms", "1.5s"; a bare "0" is zero.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want a number with a unit (200ms, 1.5s)", s)
	}
	return Duration(d), nil
}

// UnmarshalText implements encoding.TextUnmarshaler (YAML and JSON).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Percent is a fraction in [0, 1] written as "5%" (or 0.05).
type Percent float64

// ParsePercent parses "5%", "0.5%" or a fraction "0.05".
func ParsePercent(s string) (Percent, error) {
	s = strings.TrimSpace(s)
	scale := 1.0
	if strings.HasSuffix(s, "%") {
		s, scale = strings.TrimSpace(strings.TrimSuffix(s, "%")), 100
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("percentage %q: want 5%% or 0.05", s)
	}
	return Percent(f / scale), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Percent) UnmarshalText(b []byte) error {
	v, err := ParsePercent(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (p Percent) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// String renders "5%".
func (p Percent) String() string { return strconv.FormatFloat(float64(p)*100, 'g', 6, 64) + "%" }

// Bandwidth is bits per second written as "10Mbit", "512kbit", "1Gbit".
type Bandwidth float64

var bandwidthUnits = []struct {
	suffix string
	scale  float64
}{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1}}

// ParseBandwidth parses "10Mbit" (also kbit, Gbit, bit; case-insensitive).
func ParseBandwidth(s string) (Bandwidth, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "0" {
		return 0, nil
	}
	for _, u := range bandwidthUnits {
		if strings.HasSuffix(t, u.suffix) {
			f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				break
			}
			return Bandwidth(f * u.scale), nil
		}
	}
	return 0, fmt.Errorf("bandwidth %q: want a number with kbit, Mbit or Gbit", s)
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (b *Bandwidth) UnmarshalText(t []byte) error {
	v, err := ParseBandwidth(string(t))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (b Bandwidth) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// String renders "10Mbit".
func (b Bandwidth) String() string {
	for _, u := range bandwidthUnits {
		if float64(b) >= u.scale || u.scale == 1 {
			return strconv.FormatFloat(float64(b)/u.scale, 'g', 6, 64) + map[string]string{"gbit": "Gbit", "mbit": "Mbit", "kbit": "kbit", "bit": "bit"}[u.suffix]
		}
	}
	return "0"
}

// linkShape converts the shape for a p2p.Shaper (bandwidth in bytes per
// second, at least 1 when limited).
func (s Shape) linkShape() p2p.LinkShape {
	return p2p.LinkShape{Latency: time.Duration(s.Latency), Jitter: time.Duration(s.Jitter), Loss: float64(s.Loss),
		Bandwidth: s.Bandwidth.bytesPerSecond()}
}

// linkParams is the shape as memnet's link parameters (bandwidth in bytes
// per second there). On a compressed clock, Scale it first.
func (s Shape) linkParams() memnet.LinkParams {
	ls := s.linkShape()
	return memnet.LinkParams{Latency: ls.Latency, Jitter: ls.Jitter, Loss: ls.Loss, Bandwidth: ls.Bandwidth}
}

// bytesPerSecond converts bits per second to the bytes per second of the
// networks' shapers: 0 stays unlimited, a limited link gets at least 1.
func (b Bandwidth) bytesPerSecond() int64 {
	if b <= 0 {
		return 0
	}
	return max(1, int64(math.Round(float64(b)/8)))
}
